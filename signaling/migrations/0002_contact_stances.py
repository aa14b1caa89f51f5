"""Contacts become a state machine with one stance per side (issue #10: consent and block ownership).

Old rows map to the stances that show each person what they saw before:
pending -> the asker asked; mutual -> both asked; declined -> the asker asked,
the other declined; blocked (stored with the blocked person as requester) ->
the blocker (addressee) blocked, the blocked person keeps "outgoing", and that
old "asked" never counts once the block is lifted.
"""

from django.db import migrations, models

STANCES = {
    "pending": ("asked", "none"),
    "mutual": ("asked", "asked"),
    "declined": ("asked", "declined"),
    "blocked": ("asked", "blocked"),
}


def to_stances(apps, schema_editor):
    Contact = apps.get_model("signaling", "Contact")
    for status, (requester, addressee) in STANCES.items():
        Contact.objects.filter(status=status).update(requester_stance=requester, addressee_stance=addressee)


def to_status(apps, schema_editor):
    Contact = apps.get_model("signaling", "Contact")
    for status, (requester, addressee) in STANCES.items():
        Contact.objects.filter(requester_stance=requester, addressee_stance=addressee).update(status=status)


STANCE_CHOICES = [("none", "Nothing"), ("asked", "Asked"), ("declined", "Declined"), ("blocked", "Blocked")]


class Migration(migrations.Migration):

    dependencies = [
        ("signaling", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="contact",
            name="requester_stance",
            field=models.CharField(choices=STANCE_CHOICES, default="asked", max_length=8),
        ),
        migrations.AddField(
            model_name="contact",
            name="addressee_stance",
            field=models.CharField(choices=STANCE_CHOICES, default="none", max_length=8),
        ),
        migrations.RunPython(to_stances, to_status),
        migrations.RemoveIndex(
            model_name="contact",
            name="signaling_c_address_27c942_idx",
        ),
        migrations.RemoveField(
            model_name="contact",
            name="status",
        ),
    ]
