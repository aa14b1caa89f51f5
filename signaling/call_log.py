"""App-to-app calls in the shared call history (telephony.CallLog rows, kind "app").

One row per party, external_id = call_id: who (peer_user), when, how it ended,
how long it lasted — nothing else (no SDP, no addresses, no devices).
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from telephony.models import CallLog


def log_call_started(call_id: str, caller_id: int, callee_id: int, started_at: datetime) -> None:
    with transaction.atomic():
        for user_id, peer_id, direction in ((caller_id, callee_id, "out"), (callee_id, caller_id, "in")):
            CallLog.objects.get_or_create(
                user_id=user_id,
                kind=CallLog.KIND_APP,
                external_id=call_id,
                defaults={"direction": direction, "peer_user_id": peer_id, "started_at": started_at},
            )


def log_call_answered(call_id: str, caller_id: int, callee_id: int, answered_at: datetime) -> None:
    CallLog.objects.filter(
        kind=CallLog.KIND_APP, external_id=call_id, user_id__in=[caller_id, callee_id], answered_at__isnull=True
    ).update(answered_at=answered_at)


def log_call_ended(
    call_id: str, caller_id: int, callee_id: int, ended_at: datetime, reason: str, *, missed: bool
) -> None:
    with transaction.atomic():
        rows = CallLog.objects.select_for_update().filter(
            kind=CallLog.KIND_APP, external_id=call_id, user_id__in=[caller_id, callee_id], ended_at__isnull=True
        )
        for row in rows:
            row.ended_at = ended_at
            row.end_reason = reason
            row.duration_s = int((ended_at - row.answered_at).total_seconds()) if row.answered_at else 0
            row.missed = missed and row.direction == "in"
            row.save(update_fields=["ended_at", "end_reason", "duration_s", "missed"])
