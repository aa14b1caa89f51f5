"""{% policy_notice %}: the dated notice of a new privacy policy version, until dismissed."""

from __future__ import annotations

from django import template

from privacy.notices import pending_notice

register = template.Library()


@register.inclusion_tag("privacy/notice.html", takes_context=True)
def policy_notice(context: template.Context) -> dict[str, object]:
    request = context.get("request")
    user = getattr(request, "user", None)
    return {
        "version": pending_notice(user),
        "next": request.get_full_path() if request else "/",
        "csrf_token": context.get("csrf_token"),
    }
