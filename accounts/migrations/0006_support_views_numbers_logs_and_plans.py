"""Support may also view a user's number, plan, and call and text metadata (read-only admins)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

SUPPORT_GROUP = "Support"
VIEW_PERMISSIONS = [
    ("telephony", "view_phonenumber"),
    ("telephony", "view_calllog"),
    ("telephony", "view_smslog"),
    ("billing", "view_billingaccount"),
]


def grant(apps, schema_editor):
    for label in {app_label for app_label, _ in VIEW_PERMISSIONS}:
        config = apps.get_app_config(label)
        config.models_module = True
        create_permissions(config, apps=apps, verbosity=0)
        config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=SUPPORT_GROUP)
    for app_label, codename in VIEW_PERMISSIONS:
        group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name=SUPPORT_GROUP).first()
    if group is None:
        return
    for app_label, codename in VIEW_PERMISSIONS:
        group.permissions.remove(*Permission.objects.filter(content_type__app_label=app_label, codename=codename))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_time_zone"),
        ("telephony", "0005_address_book_and_read_markers"),
        ("billing", "0002_remove_fake_stripe_object"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
