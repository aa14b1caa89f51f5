"""Support staff can see the outbox in the admin (kinds, due times, attempts, failures; never payloads)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def let_support_view_jobs(apps, schema_editor):
    # Permissions are normally created after all migrations ran.
    outbox = apps.get_app_config("outbox")
    outbox.models_module = True
    create_permissions(outbox, apps=apps, verbosity=0)
    outbox.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Support")
    group.permissions.add(Permission.objects.get(content_type__app_label="outbox", codename="view_job"))


def undo(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name="Support"):
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="outbox", codename="view_job"))


class Migration(migrations.Migration):
    dependencies = [
        ("outbox", "0001_initial"),
        ("accounts", "0002_support_group"),
    ]

    operations = [migrations.RunPython(let_support_view_jobs, undo)]
