"""The "Support" group: staff in it can view accounts in the admin, and change nothing."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

SUPPORT_GROUP = "Support"
SUPPORT_PERMISSIONS = [("accounts", "view_user")]


def create_support_group(apps, schema_editor):
    # Permissions are normally created after all migrations ran; create the
    # ones this group needs now.
    accounts = apps.get_app_config("accounts")
    accounts.models_module = True
    create_permissions(accounts, apps=apps, verbosity=0)
    accounts.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=SUPPORT_GROUP)
    permissions = [
        Permission.objects.get(content_type__app_label=app_label, codename=codename)
        for app_label, codename in SUPPORT_PERMISSIONS
    ]
    group.permissions.set(permissions)


def remove_support_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=SUPPORT_GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_support_group, remove_support_group)]
