"""The fake Twilio's state moves to the fakes' own store (numfree/fake_store.py), out of NumFree's database.

What an embedded install's fake held (numbers, messages, recordings) is copied
there first, so its numbers keep working; a real deployment's table is empty.
"""

from django.db import migrations


def copy_to_the_fakes_store(apps, schema_editor):  # type: ignore[no-untyped-def]
    from numfree import fake_store

    resources = apps.get_model("telephony", "FakeTwilioResource").objects.order_by("id")
    for row in resources.iterator():
        fake_store.put("twilio", row.kind, row.sid, row.data, bytes(row.content or b""))


class Migration(migrations.Migration):
    dependencies = [
        ("telephony", "0003_retention_indexes"),
    ]

    operations = [
        migrations.RunPython(copy_to_the_fakes_store, migrations.RunPython.noop, elidable=True),
        migrations.DeleteModel(
            name="FakeTwilioResource",
        ),
    ]
