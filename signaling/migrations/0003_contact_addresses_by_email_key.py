"""Addresses without an account are stored as the canonical email key, like every other email lookup."""

from django.db import migrations


def to_email_keys(apps, schema_editor):
    from accounts.email_identity import email_key

    Contact = apps.get_model("signaling", "Contact")
    keys = {}
    duplicates = []
    for contact in Contact.objects.order_by("created_at", "pk").only("pk", "requester_id", "addressee_email"):
        key = email_key(contact.addressee_email)
        if (contact.requester_id, key) in keys.values():
            # The same person asked the same address twice in two spellings: the first ask stands.
            duplicates.append(contact.pk)
        else:
            keys[contact.pk] = (contact.requester_id, key)
    Contact.objects.filter(pk__in=duplicates).delete()
    for pk, (_, key) in keys.items():
        Contact.objects.filter(pk=pk).exclude(addressee_email=key).update(addressee_email=key)

class Migration(migrations.Migration):
    dependencies = [
        ("signaling", "0002_contact_stances"),
        ("accounts", "0003_email_key"),
    ]

    operations = [migrations.RunPython(to_email_keys, migrations.RunPython.noop)]
