"""What billing holds about a person (their Stripe customer and subscription state), and how to export and erase it."""

from __future__ import annotations

from typing import Any

from accounts.models import User
from billing.erasure import erase_customer
from billing.models import BillingAccount
from privacy.export_schema import moment, obj, string
from privacy.registry import AppPersonalData, ExportPart, holds, no_personal_data, register

SCHEMA = obj(
    {
        "subscription": {
            "oneOf": [
                {"type": "null"},
                obj({"plan": string(), "status": string(), "current_period_end": moment(), "ended_at": moment()}),
            ]
        },
        "card_numbers": {"const": "never stored by NumFree: Stripe holds your payment details"},
    },
    title="Payment data",
)


def _when(value: Any) -> str | None:
    return value.isoformat() if value else None


def export_billing(user: User) -> ExportPart:
    account = BillingAccount.objects.filter(user=user).first()
    subscription = (
        None
        if account is None
        else {
            "plan": account.plan,
            "status": account.status,
            "current_period_end": _when(account.current_period_end),
            "ended_at": _when(account.ended_at),
        }
    )
    return ExportPart(
        category="payment",
        data={
            "subscription": subscription,
            "card_numbers": "never stored by NumFree: Stripe holds your payment details",
        },
        schema=SCHEMA,
        summary=[
            ("Plan: " + (account.plan or "none") + (f" ({account.status})" if account.status else ""))
            if account
            else "No subscription",
            "Card numbers: never stored by NumFree (Stripe processes payments)",
        ],
    )


register(
    AppPersonalData(
        app_label="billing",
        category="payment",
        models={
            "BillingAccount": holds("user", user_field="user"),
            "StripeEvent": no_personal_data("only Stripe's event ids and types, kept to ignore repeats"),
        },
        export=export_billing,
        erase=erase_customer,
    )
)
