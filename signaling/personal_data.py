"""What signaling holds about a person (their contacts), and how to export and erase it.

App-to-app call logs are telephony.CallLog rows, exported and erased by telephony.
"""

from __future__ import annotations

from accounts.models import User
from privacy.export_schema import obj, string
from privacy.registry import AppPersonalData, ExportPart, holds, register
from signaling.contacts import list_contacts
from signaling.models import Contact

SCHEMA = obj(
    {
        "contacts": {
            "type": "array",
            "items": obj({"email": string(), "status": {"enum": ["mutual", "outgoing", "incoming"]}}),
        }
    },
    title="Contacts",
)


def export_contacts(user: User) -> ExportPart:
    contacts = [{"email": c.email, "status": c.status} for c in list_contacts(user)]
    return ExportPart(
        category="other",
        data={"contacts": contacts},
        schema=SCHEMA,
        summary=[f"{len(contacts)} contacts and contact requests"],
    )


def erase_contacts(user: User) -> None:
    """Both sides of each relation go: the other person's list no longer shows this account."""
    Contact.objects.involving(user).delete()
    Contact.objects.filter(addressee_email=user.email_key).delete()


register(
    AppPersonalData(
        app_label="signaling",
        category="other",
        models={"Contact": holds("user", "email", user_field="requester")},
        export=export_contacts,
        erase=erase_contacts,
    )
)
