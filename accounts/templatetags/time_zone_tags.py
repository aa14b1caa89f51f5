"""Template tags of accounts: the one-time time-zone detection script."""

from __future__ import annotations

from typing import Any

from django import template
from django.middleware.csrf import get_token
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html

register = template.Library()


@register.simple_tag(takes_context=True)
def time_zone_detector(context: dict[str, Any]) -> str:
    """A script tag that reports the browser's zone, only for a signed-in account that has none yet."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.time_zone:
        return ""
    return format_html(
        '<script src="{}" data-endpoint="{}" data-csrf="{}" defer></script>',
        static("accounts/time_zone.js"),
        reverse("account-time-zone-detect"),
        get_token(request),
    )
