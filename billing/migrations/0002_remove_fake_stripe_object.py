"""The fake Stripe's objects move to the fakes' own store (numfree/fake_store.py), out of NumFree's database.

What an embedded install's fake held (customers, subscriptions, invoices,
events) is copied there first; a real deployment's table is empty.
"""

from django.db import migrations


def copy_to_the_fakes_store(apps, schema_editor):  # type: ignore[no-untyped-def]
    from numfree import fake_store

    objects = apps.get_model("billing", "FakeStripeObject").objects.order_by("created", "id")
    for row in objects.iterator():
        fake_store.put("stripe", row.object, row.id, row.data)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(copy_to_the_fakes_store, migrations.RunPython.noop, elidable=True),
        migrations.DeleteModel(
            name="FakeStripeObject",
        ),
    ]
