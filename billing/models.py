"""A user's Stripe customer and subscription state, and the Stripe events already applied.

Only Stripe IDs, the plan, the status and dates are stored: never a card.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

# Stripe subscription statuses, grouped by what they mean for service.
SERVING = frozenset({"active", "trialing"})
IN_GRACE = frozenset({"past_due", "unpaid"})
ENDED = frozenset({"canceled", "incomplete_expired", "paused"})


class BillingAccount(models.Model):
    """One user's Stripe customer and their current subscription, as Stripe last said it was.

    Personal data: Stripe IDs tied to the user (exported and erased by billing/).
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="billing")
    stripe_customer_id = models.CharField(max_length=255, blank=True, db_index=True)
    stripe_subscription_id = models.CharField(max_length=255, blank=True)
    # When Stripe created the current subscription: a newer live one replaces it.
    subscription_created = models.DateTimeField(null=True, blank=True)
    plan = models.CharField(max_length=16, blank=True)  # a key of settings.BILLING_PLANS
    status = models.CharField(max_length=32, blank=True)  # Stripe's subscription status
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    # First failed payment of the current unpaid stretch: the grace period counts from here.
    past_due_since = models.DateTimeField(null=True, blank=True)
    # When Stripe ended the subscription (cancellation).
    ended_at = models.DateTimeField(null=True, blank=True)
    # Whether this subscription ever gave service (an abandoned first payment holds nothing).
    had_service = models.BooleanField(default=False)
    # Notices already sent, keyed by the release date they announced.
    hold_notice_for = models.DateTimeField(null=True, blank=True)
    release_reminder_for = models.DateTimeField(null=True, blank=True)
    number_released_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"billing of user {self.user_id}"

    @property
    def grace_ends_at(self) -> datetime | None:
        if self.past_due_since is None:
            return None
        return self.past_due_since + timedelta(days=settings.BILLING_GRACE_DAYS)

    def service_ends_at(self) -> datetime | None:
        """When service stopped (or will stop, for a past-due subscription); None while it runs."""
        if self.status in SERVING or not self.had_service:
            return None
        ends = [moment for moment in (self.grace_ends_at, self.ended_at) if moment is not None]
        return min(ends) if ends else None

    def has_service(self, now: datetime | None = None) -> bool:
        if self.status in SERVING:
            return True
        ends = self.service_ends_at()
        return self.status in IN_GRACE and ends is not None and (now or timezone.now()) < ends

    def number_held_until(self) -> datetime | None:
        """When a held number is released, if service has stopped; None while service runs."""
        ends = self.service_ends_at()
        if ends is None or self.number_released_at is not None:
            return None
        return ends + timedelta(days=settings.BILLING_NUMBER_HOLD_DAYS)

    def is_holding(self, now: datetime | None = None) -> bool:
        """Service has stopped and the number is kept for a resubscription."""
        held_until = self.number_held_until()
        return held_until is not None and not self.has_service(now) and (now or timezone.now()) < held_until


class StripeEvent(models.Model):
    """A Stripe event id already applied: the unique key makes every delivery after the first a no-op.

    Personal data: none (Stripe's event id and type).
    """

    id = models.CharField(primary_key=True, max_length=255)
    type = models.CharField(max_length=64)
    received_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.type} {self.id}"
