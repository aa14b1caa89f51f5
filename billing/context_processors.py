"""The billing banner (failed payment, stopped service, held number) shown on every page of a signed-in user."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from billing.models import IN_GRACE, BillingAccount


def billing_notice(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # A callable: templates that never show the banner never query for it.
    return {"billing_notice": lambda: _notice_for(user)}


def _notice_for(user: Any) -> dict[str, Any] | None:
    account = BillingAccount.objects.filter(user=user).first()
    if account is None:
        return None
    now = timezone.now()
    if account.status in IN_GRACE and account.has_service(now):
        return {"kind": "payment_failed", "service_until": account.grace_ends_at}
    if account.is_holding(now):
        return {
            "kind": "number_held",
            "stopped_on": account.service_ends_at(),
            "release_on": account.number_held_until(),
        }
    return None
