"""Admin for support staff: a user's plan as Stripe last said it was, read-only."""

from __future__ import annotations

from django.contrib import admin

from billing.models import BillingAccount
from numfree.read_only_admin import ReadOnlyAdmin


@admin.register(BillingAccount)
class BillingAccountAdmin(ReadOnlyAdmin):
    list_display = ("user", "plan", "status", "current_period_end", "cancel_at_period_end", "ended_at")
    list_filter = ("plan", "status", "cancel_at_period_end")
    search_fields = ("user__email", "stripe_customer_id")
    list_select_related = ("user",)
    fields = (
        "user",
        "plan",
        "status",
        "current_period_end",
        "cancel_at_period_end",
        "past_due_since",
        "ended_at",
        "number_released_at",
        "stripe_customer_id",
        "stripe_subscription_id",
        "updated_at",
    )
