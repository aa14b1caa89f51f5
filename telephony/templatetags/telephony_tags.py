"""Template tags of the numbers pages: numbers and names for people, labelled times, counts, the chart.

For other apps' templates (the home page, the navigation):
    {% load telephony_tags %}
    {% your_number as number %}         the signed-in user's NumFree number, formatted ("" without one)
    {% unheard_voicemail as count %}   the signed-in user's unheard voicemails
    {% unread_conversations as count %} conversations with an unread text
    {% activity_chart %}               calls and texts per day, last 30 days, in the user's zone
    {% person number %}                the name the user gave a number, or the number formatted
    {{ moment|when }}                  "2 Dec 2026, 14:05 CET" in the user's zone, in a <time>
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.conf import settings
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString

from telephony import activity, conversations
from telephony.models import Voicemail
from telephony.numbers import current_number
from telephony.people import People, format_number

register = template.Library()


@register.simple_tag
def simulation_enabled() -> bool:
    """The simulation panel exists only in embedded mode (DEBUG=1)."""
    return bool(settings.DEBUG)


@register.filter
def phone(e164: str, home_country: str = "") -> str:
    """{{ number|phone:"US" }}: national format in that country, international elsewhere."""
    return format_number(str(e164 or ""), home_country)


def _people(context: template.Context) -> People:
    request = context.get("request")
    return People.for_request(request) if request is not None else People("", {})


@register.simple_tag(takes_context=True)
def phone_number(context: template.Context, e164: str) -> str:
    """The number formatted for the signed-in user (national in their number's country)."""
    return _people(context).number(e164 or "")


@register.simple_tag(takes_context=True)
def person(context: template.Context, e164: str) -> SafeString:
    """The name the user gave this number with the number after it, or just the formatted number."""
    people = _people(context)
    number = people.number(e164 or "")
    name = people.name(e164 or "")
    if name:
        return format_html(
            '<data class="person" value="{}"><strong>{}</strong> <span class="muted">{}</span></data>',
            e164,
            name,
            number,
        )
    return format_html('<data class="person" value="{}">{}</data>', e164, number)


@register.simple_tag(takes_context=True)
def person_name(context: template.Context, e164: str) -> str:
    """The name the user gave this number, or the number formatted (plain text, for titles)."""
    people = _people(context)
    return people.name(e164 or "") or people.number(e164 or "")


@register.filter(is_safe=True)
def when(value: datetime | None) -> SafeString | str:
    """A moment in the user's zone, labelled with the zone's abbreviation, in a <time> element."""
    if not value:
        return ""
    local = timezone.localtime(value)
    return format_html(
        '<time datetime="{}" data-zone="{}">{}</time>',
        value.isoformat(),
        timezone.get_current_timezone_name(),
        date_format(local, "j M Y, H:i T"),
    )


@register.simple_tag(takes_context=True)
def your_number(context: template.Context) -> str:
    """The signed-in user's NumFree number, formatted ("" without one)."""
    user = getattr(context.get("request"), "user", None)
    if user is None or not user.is_authenticated:
        return ""
    e164 = current_number(user)
    return _people(context).number(e164) if e164 else ""


@register.simple_tag(takes_context=True)
def unheard_voicemail(context: template.Context) -> int:
    """How many of the signed-in user's voicemails are not heard yet (0 when signed out)."""
    user = getattr(context.get("request"), "user", None)
    if user is None or not user.is_authenticated:
        return 0
    return Voicemail.objects.filter(user=user, heard=False).count()


@register.simple_tag(takes_context=True)
def unread_conversations(context: template.Context) -> int:
    """How many of the signed-in user's latest conversations hold an unread text (0 when signed out)."""
    user = getattr(context.get("request"), "user", None)
    if user is None or not user.is_authenticated:
        return 0
    return conversations.unread_total(user)


@register.inclusion_tag("telephony/_activity.html", takes_context=True)
def activity_chart(context: template.Context, days: int = 30) -> dict[str, Any]:
    """Calls and texts per day in the user's zone, with the totals and a link to the same rows."""
    user = getattr(context.get("request"), "user", None)
    if user is None or not user.is_authenticated:
        return {"chart": None}
    return {"chart": activity.activity_chart(user, days)}
