"""Template tags other apps' pages use to say what a plan allows (the number search says up front that it needs one)."""

from __future__ import annotations

from typing import Any

from django import template

from billing.entitlements import can_hold_number

register = template.Library()


@register.simple_tag(takes_context=True)
def may_hold_number(context: template.Context) -> bool:
    """Whether the signed-in user's plan lets them get a number now."""
    user: Any = context["request"].user
    return bool(user.is_authenticated and can_hold_number(user))
