"""The policy as first published."""

from datetime import date

from django.db import migrations


def publish_first_version(apps, schema_editor):
    PolicyVersion = apps.get_model("privacy", "PolicyVersion")
    PolicyVersion.objects.get_or_create(
        version="1", defaults={"effective_date": date(2025, 1, 1), "summary_of_changes": "First published version."}
    )


class Migration(migrations.Migration):
    dependencies = [("privacy", "0001_initial")]
    operations = [migrations.RunPython(publish_first_version, migrations.RunPython.noop)]
