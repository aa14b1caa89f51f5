"""Telling a user about failed payments, stopped service and their held number, and releasing it after the hold.

Timeline: a failed payment starts the grace period (service continues); when
grace ends or the subscription is canceled, service stops and the number is
held; the user is told the release date then and again shortly before it (a
number is never released before that first notice went out); a
resubscription during the hold keeps the number; after the hold it is released.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from billing.models import IN_GRACE, SERVING, BillingAccount

logger = logging.getLogger(__name__)


def _day(moment: datetime | None) -> str:
    return moment.strftime("%B %-d, %Y") if moment else ""


def _billing_url() -> str:
    return settings.PUBLIC_URL + reverse("billing")


def notify_payment_failed(account: BillingAccount, *, attempt: int) -> None:
    """One email per failed attempt (the caller applies each Stripe event once)."""
    from numfree.mail import queue_email

    if account.status not in IN_GRACE:
        return  # already paid (or ended) by the time this reached us: nothing to fix
    queue_email(
        to=account.user.email,
        subject="Your NumFree payment didn't go through",
        template="billing/email/payment_failed.txt",
        context={
            "attempt": attempt,
            "service_until": _day(account.grace_ends_at),
            "billing_url": _billing_url(),
        },
    )


def accounts_to_watch() -> list[int]:
    """Accounts whose service may have stopped and whose number is not yet released."""
    return list(
        BillingAccount.objects.filter(had_service=True, number_released_at__isnull=True)
        .exclude(status__in=SERVING)
        .values_list("pk", flat=True)
    )


def advance_hold(account_id: int, now: datetime | None = None) -> str:
    """Send whatever notice is due for one account, or release its number. Returns what was done."""
    from numfree.mail import queue_email

    now = now or timezone.now()
    with transaction.atomic():
        account = BillingAccount.objects.select_for_update(skip_locked=True).filter(pk=account_id).first()
        if account is None or account.has_service(now):
            return "nothing"
        held_until = account.number_held_until()
        if held_until is None:
            return "nothing"
        context = {
            "stopped_on": _day(account.service_ends_at()),
            "release_on": _day(held_until),
            "billing_url": _billing_url(),
        }
        if account.hold_notice_for != held_until:
            account.hold_notice_for = held_until
            account.save(update_fields=["hold_notice_for", "updated_at"])
            queue_email(
                to=account.user.email,
                subject=f"Your NumFree service stopped; your number is kept until {context['release_on']}",
                template="billing/email/number_held.txt",
                context=context,
            )
            return "hold_notice"
        if now >= held_until:
            released = _release(account)
            account.number_released_at = now
            account.save(update_fields=["number_released_at", "updated_at"])
            if not released:
                return "released"
            queue_email(
                to=account.user.email,
                subject="Your NumFree number was released",
                template="billing/email/number_released.txt",
                context=context,
            )
            return "released"
        reminder_due = held_until - timedelta(days=settings.BILLING_RELEASE_REMINDER_DAYS)
        if now >= reminder_due and account.release_reminder_for != held_until:
            account.release_reminder_for = held_until
            account.save(update_fields=["release_reminder_for", "updated_at"])
            queue_email(
                to=account.user.email,
                subject=f"Your NumFree number will be released on {context['release_on']}",
                template="billing/email/release_reminder.txt",
                context=context,
            )
            return "reminder"
    return "nothing"


def _release(account: BillingAccount) -> int:
    """Release the user's number(s) through telephony; how many there were."""
    from telephony.numbers import release_number

    released = release_number(account.user)
    logger.info("number hold ended for billing account %s: %s number(s) released", account.pk, released)
    return released
