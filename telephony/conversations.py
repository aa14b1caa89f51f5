"""Texts as conversations: grouped by the other party, read markers, a thread's rows and their statuses.

Only metadata is grouped: NumFree never has a body to show. "Unread" is an
incoming text newer than the user's read marker for that number
(ConversationRead.read_until), which opening the thread moves forward.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from operator import or_
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q, QuerySet

from telephony.models import SMS_STATUS_ORDER, ConversationRead, SmsLog

if TYPE_CHECKING:
    from accounts.models import User

CONVERSATIONS_PER_PAGE = 50
# An outgoing text whose status is one of these will not change any more.
FINAL_OUT_STATUSES = {status for status, rank in SMS_STATUS_ORDER.items() if rank >= 5}


@dataclass(frozen=True)
class Conversation:
    peer_number: str
    last_at: datetime
    texts: int
    incoming: int
    unread: int

    @property
    def outgoing(self) -> int:
        return self.texts - self.incoming


def conversations(user: User, page: int = 1) -> tuple[list[Conversation], bool]:
    """One page of the user's conversations, latest activity first, and whether an older page exists."""
    start = (page - 1) * CONVERSATIONS_PER_PAGE
    grouped = list(
        SmsLog.objects.filter(user=user)
        .values("peer_number")
        .annotate(
            last_at=Max("created_at"),
            texts=Count("id"),
            incoming=Count("id", filter=Q(direction="in")),
            last_in=Max("created_at", filter=Q(direction="in")),
        )
        .order_by("-last_at", "peer_number")[start : start + CONVERSATIONS_PER_PAGE + 1]
    )
    more = len(grouped) > CONVERSATIONS_PER_PAGE
    grouped = grouped[:CONVERSATIONS_PER_PAGE]
    unread = _unread_counts(user, grouped)
    items = [
        Conversation(
            row["peer_number"], row["last_at"], row["texts"], row["incoming"], unread.get(row["peer_number"], 0)
        )
        for row in grouped
    ]
    return items, more


def _unread_counts(user: User, grouped: list[dict[str, Any]]) -> dict[str, int]:
    """Incoming texts after each conversation's read marker: one query for the page's markers, one to count."""
    peers = [row["peer_number"] for row in grouped if row["last_in"]]
    markers = dict(
        ConversationRead.objects.filter(user=user, peer_number__in=peers).values_list("peer_number", "read_until")
    )
    unread_peers = [
        row["peer_number"]
        for row in grouped
        if row["last_in"] and (row["peer_number"] not in markers or row["last_in"] > markers[row["peer_number"]])
    ]
    if not unread_peers:
        return {}
    since = [
        Q(peer_number=peer, created_at__gt=markers[peer]) if peer in markers else Q(peer_number=peer)
        for peer in unread_peers
    ]
    counted = (
        SmsLog.objects.filter(user=user, direction="in")
        .filter(reduce(or_, since))
        .values("peer_number")
        .annotate(count=Count("id"))
    )
    return {row["peer_number"]: row["count"] for row in counted}


def unread_total(user: User) -> int:
    """Conversations with an unread text (for the navigation)."""
    items, _more = conversations(user)
    return sum(1 for item in items if item.unread)


def thread_rows(user: User, peer_number: str) -> QuerySet[SmsLog]:
    """The user's texts with one number, newest first (page them with logs.page)."""
    return SmsLog.objects.filter(user=user, peer_number=peer_number).order_by("-created_at", "-id")


def mark_read(user: User, peer_number: str) -> None:
    """Everything received from this number so far is read; the marker only moves forward."""
    newest = (
        SmsLog.objects.filter(user=user, peer_number=peer_number, direction="in")
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if newest is None:
        return
    moved = ConversationRead.objects.filter(user=user, peer_number=peer_number, read_until__lt=newest).update(
        read_until=newest
    )
    if moved or ConversationRead.objects.filter(user=user, peer_number=peer_number).exists():
        return
    try:
        with transaction.atomic():
            ConversationRead.objects.create(user=user, peer_number=peer_number, read_until=newest)
    except IntegrityError:  # the same thread opened twice at once
        ConversationRead.objects.filter(user=user, peer_number=peer_number, read_until__lt=newest).update(
            read_until=newest
        )


def status_label(log: SmsLog) -> str:
    """Where a text is, in words; for an incoming one this stands where its body would be."""
    if log.direction == "in":
        if log.blocked:
            return "Blocked: not forwarded"
        if log.dropped:
            return "Could not be forwarded to your email in time; the text was dropped"
        if log.forwarded_at:
            return "Forwarded to your email"
        return "On its way to your email"
    return {
        "accepted": "Queued",
        "scheduled": "Queued",
        "queued": "Queued",
        "sending": "Sending",
        "sent": "Sent",
        "delivered": "Delivered",
        "undelivered": "Not delivered",
        "failed": "Failed",
        "canceled": "Cancelled",
        "read": "Read",
        "blocked": "Blocked",
    }.get(log.status, log.status.capitalize() or "Queued")


def is_final(log: SmsLog) -> bool:
    """The status shown will not change any more (the page stops asking)."""
    if log.direction == "in":
        return bool(log.blocked or log.dropped or log.forwarded_at)
    return log.status in FINAL_OUT_STATUSES


def statuses(rows: list[SmsLog]) -> list[dict[str, Any]]:
    """What the thread page's script updates: each text's status in words and whether it is final."""
    return [{"id": row.pk, "status": status_label(row), "final": is_final(row)} for row in rows]
