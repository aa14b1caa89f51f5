"""What telephony holds about a person (number, forwarding, blocks, call/SMS logs, voicemail) and how to export, erase and purge it."""

from __future__ import annotations

from datetime import datetime
from pathlib import PurePath
from typing import Any

from django.db.models import QuerySet

from accounts.models import User
from numfree.outbox import enqueue
from privacy.export_schema import array_of, moment, obj, string
from privacy.registry import AppPersonalData, ExportPart, ProviderDeletion, holds, register
from privacy.retention import delete_files_later, delete_in_batches
from telephony.models import (
    BlockedNumber,
    CallLog,
    ConversationRead,
    Forwarding,
    NamedNumber,
    PhoneNumber,
    SmsLog,
    Voicemail,
)
from telephony.numbers import forget_numbers
from telephony.voicemail import delete_voicemail

NULLABLE_STRING = {"type": ["string", "null"]}
NULLABLE_INT = {"type": ["integer", "null"]}
SCHEMA = obj(
    {
        "numbers": array_of(obj({"number": string(), "country": string(), "bought_at": moment()})),
        "forwarding": {
            "oneOf": [
                {"type": "null"},
                obj(
                    {
                        "email": string(),
                        "phone": string(),
                        "phone_verified": {"type": "boolean"},
                        "do_not_disturb": {"type": "boolean"},
                    }
                ),
            ]
        },
        "blocked_numbers": array_of(obj({"number": string(), "blocked_at": moment()})),
        "calls": array_of(
            obj(
                {
                    "kind": {"enum": ["app", "phone"]},
                    "direction": {"enum": ["in", "out"]},
                    "peer": string(),
                    "peer_name": string(),
                    "started_at": moment(),
                    "answered_at": moment(),
                    "ended_at": moment(),
                    "duration_s": NULLABLE_INT,
                    "end_reason": string(),
                    "missed": {"type": "boolean"},
                }
            )
        ),
        "texts": array_of(
            obj(
                {
                    "direction": string(),
                    "peer": string(),
                    "peer_name": string(),
                    "our_number": string(),
                    "at": moment(),
                    "status": string(),
                }
            )
        ),
        "voicemails": array_of(
            obj({"from": string(), "from_name": string(), "at": moment(), "audio_file": NULLABLE_STRING})
        ),
        "address_book": array_of(obj({"number": string(), "name": string(), "named_at": moment()})),
        "conversations_read": array_of(obj({"peer": string(), "read_until": moment()})),
    },
    title="Phone number data (texts' content is never stored, so it is not here)",
)


def _when(value: Any) -> str | None:
    return value.isoformat() if value else None


def export_telephony(user: User) -> ExportPart:
    forwarding = Forwarding.objects.filter(user=user).first()
    names = dict(NamedNumber.objects.filter(user=user).values_list("number", "name"))
    files: dict[str, bytes] = {}
    voicemails = []
    for voicemail in Voicemail.objects.filter(user=user).order_by("created_at"):
        audio_name = None
        if voicemail.audio:
            audio_name = f"voicemail/{voicemail.created_at:%Y-%m-%d_%H%M%S}_{voicemail.pk}{PurePath(voicemail.audio.name).suffix}"
            with voicemail.audio.open("rb") as audio:
                files[audio_name] = audio.read()
        voicemails.append(
            {
                "from": voicemail.peer_number,
                "from_name": names.get(voicemail.peer_number, ""),
                "at": _when(voicemail.created_at),
                "audio_file": audio_name,
            }
        )
    calls = [
        {
            "kind": c.kind,
            "direction": c.direction,
            "peer": c.peer,
            "peer_name": names.get(c.peer_number, "") if c.peer_number else "",
            "started_at": _when(c.started_at),
            "answered_at": _when(c.answered_at),
            "ended_at": _when(c.ended_at),
            "duration_s": c.duration_s,
            "end_reason": c.end_reason,
            "missed": c.missed,
        }
        for c in CallLog.objects.filter(user=user).select_related("peer_user").order_by("started_at")
    ]
    texts = [
        {
            "direction": s.direction,
            "peer": s.peer_number,
            "peer_name": names.get(s.peer_number, ""),
            "our_number": s.our_number,
            "at": _when(s.created_at),
            "status": s.status,
        }
        for s in SmsLog.objects.filter(user=user).order_by("created_at")
    ]
    numbers = [
        {"number": n.e164, "country": n.country, "bought_at": _when(n.bought_at)}
        for n in PhoneNumber.objects.filter(user=user)
    ]
    address_book = [
        {"number": n.number, "name": n.name, "named_at": _when(n.created_at)}
        for n in NamedNumber.objects.filter(user=user).order_by("name", "number")
    ]
    conversations_read = [
        {"peer": r.peer_number, "read_until": _when(r.read_until)}
        for r in ConversationRead.objects.filter(user=user).order_by("peer_number")
    ]
    data = {
        "numbers": numbers,
        "forwarding": None
        if forwarding is None
        else {
            "email": forwarding.email,
            "phone": forwarding.phone,
            "phone_verified": forwarding.phone_verified,
            "do_not_disturb": forwarding.do_not_disturb,
        },
        "blocked_numbers": [
            {"number": b.number, "blocked_at": _when(b.created_at)} for b in BlockedNumber.objects.filter(user=user)
        ],
        "calls": calls,
        "texts": texts,
        "voicemails": voicemails,
        "address_book": address_book,
        "conversations_read": conversations_read,
    }
    return ExportPart(
        category="phone",
        data=data,
        schema=SCHEMA,
        files=files,
        summary=[
            "Your number: " + (", ".join(n["number"] for n in numbers) or "none"),
            f"{len(calls)} calls and {len(texts)} texts in your logs (who, when; never what was said)",
            f"{len(voicemails)} voicemails",
            f"{len(address_book)} names you gave numbers",
        ],
    )


def erase_telephony(user: User) -> list[ProviderDeletion]:
    """Every row and voicemail file here, without calling Twilio; returns what Twilio still holds.

    The number, the recordings and the texts (and their media) are deleted at
    Twilio by jobs queued with this transaction, which retry while Twilio is
    down or still busy with a text (20009).
    """
    deletions = [ProviderDeletion("twilio", "telephony.release_number", {"sid": sid}) for sid in forget_numbers(user)]
    for voicemail in Voicemail.objects.filter(user=user):
        deletions.append(ProviderDeletion("twilio", "telephony.delete_recording", {"sid": voicemail.recording_sid}))
        delete_voicemail(voicemail)
    texts = SmsLog.objects.filter(user=user)
    deletions += [
        ProviderDeletion("twilio", "telephony.delete_message", {"sid": sid})
        for sid in texts.filter(deleted_at_twilio=False).values_list("message_sid", flat=True)
    ]
    texts.delete()
    CallLog.objects.filter(user=user).delete()
    BlockedNumber.objects.filter(user=user).delete()
    NamedNumber.objects.filter(user=user).delete()
    ConversationRead.objects.filter(user=user).delete()
    Forwarding.objects.filter(user=user).delete()
    # Other users' app-call rows keep their history: peer_user becomes NULL ("deleted user").
    return deletions


def _forget_voicemails_elsewhere(voicemails: QuerySet[Voicemail]) -> None:
    """In the purge batch's transaction: queue deleting each recording at Twilio and the audio files (the worker does it)."""
    rows = list(voicemails.values_list("recording_sid", "audio"))
    for recording_sid, _audio in rows:
        enqueue("telephony.delete_recording", {"sid": recording_sid}, dedupe_key=f"delete-recording:{recording_sid}")
    delete_files_later(audio for _sid, audio in rows)


def purge_telephony(cutoff: datetime, dry_run: bool) -> dict[str, int]:
    return {
        "call log entries": delete_in_batches(
            CallLog.objects.filter(started_at__lt=cutoff).order_by("started_at"), dry_run=dry_run
        ),
        "SMS log entries": delete_in_batches(
            SmsLog.objects.filter(created_at__lt=cutoff).order_by("created_at"), dry_run=dry_run
        ),
        "voicemails": delete_in_batches(
            Voicemail.objects.filter(created_at__lt=cutoff).order_by("created_at"),
            dry_run=dry_run,
            before_delete=_forget_voicemails_elsewhere,
        ),
    }


register(
    AppPersonalData(
        app_label="telephony",
        category="phone",
        models={
            "PhoneNumber": holds("user", "phone", user_field="user"),
            "Forwarding": holds("user", "email", "phone", user_field="user"),
            "BlockedNumber": holds("user", "phone", user_field="user"),
            "CallLog": holds("user", "phone", user_field="user"),
            "SmsLog": holds("user", "phone", user_field="user"),
            "Voicemail": holds("user", "phone", user_field="user"),
            "NamedNumber": holds("user", "phone", user_field="user"),
            "ConversationRead": holds("user", "phone", user_field="user"),
        },
        export=export_telephony,
        erase=erase_telephony,
        purge_older_than=purge_telephony,
    )
)
