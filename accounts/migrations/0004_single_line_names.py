"""Names stored before names had to be one line: each run of control characters becomes one space."""

from django.db import migrations

import accounts.display_names
import numfree.card_numbers
from accounts.display_names import is_refused, single_line


def clean_names(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    for pk, name in User.objects.exclude(name="").values_list("pk", "name"):
        if any(is_refused(char) for char in name):
            User.objects.filter(pk=pk).update(name=single_line(name))


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_email_key")]

    operations = [
        migrations.AlterField(
            model_name="user",
            name="name",
            field=numfree.card_numbers.FreeTextCharField(
                blank=True, max_length=150, validators=[accounts.display_names.validate_display_name]
            ),
        ),
        migrations.RunPython(clean_names, migrations.RunPython.noop),
    ]
