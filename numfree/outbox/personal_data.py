"""What the outbox holds about a person: queued jobs, whose encrypted payload may carry an email or a text.

A payload is readable only with the outbox keys, kept outside the database;
a job row is deleted once done, and a job given up (expired, out of attempts)
keeps only its kind, dates and error class. The user's own jobs cannot be
found without decrypting every payload, so erasure leaves them to finish or
expire (nothing in them is linked to the account by a key).
"""

from __future__ import annotations

from privacy.registry import AppPersonalData, ExportPart, holds, register


def export_outbox(user: object) -> ExportPart:
    return ExportPart(category="other", data={}, schema={"type": "object", "maxProperties": 0})


def erase_outbox(user: object) -> None:
    """Nothing is keyed by the user; payloads go when their job is done or expires."""


register(
    AppPersonalData(
        app_label="outbox",
        category="other",
        models={"Job": holds("email", "phone", reason="encrypted payloads of pending jobs, deleted when done")},
        export=export_outbox,
        erase=erase_outbox,
    )
)
