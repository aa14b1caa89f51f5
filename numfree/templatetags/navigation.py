"""The site's one navigation: the sections of a signed-in user, the current one marked, the unheard-voicemail count."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import template
from django.conf import settings
from django.urls import reverse

from telephony.models import Voicemail

register = template.Library()


@dataclass(frozen=True)
class Section:
    label: str
    url: str
    # Paths that belong to the section (the longest matching prefix wins); "" means only `url` itself.
    prefixes: tuple[str, ...] = ()
    badge: int = 0
    badge_label: str = ""


def unheard_voicemail(user: Any) -> int:
    return Voicemail.objects.filter(user=user, heard=False).count()


def _sections(user: Any, unheard: int) -> tuple[list[Section], list[Section]]:
    """(the number's sections, the account's sections) for this user."""
    main = [
        Section("Home", reverse("dashboard")),
        Section("Number", reverse("telephony:number"), ("/dashboard/number/",)),
        Section("Calls", reverse("telephony:calls"), ("/dashboard/calls/",)),
        Section("Texts", reverse("telephony:messages"), ("/dashboard/messages/", "/dashboard/texts/")),
        Section(
            "Voicemail",
            reverse("telephony:voicemail-list"),
            ("/dashboard/voicemail/",),
            badge=unheard,
            badge_label="unheard",
        ),
        Section("Names", reverse("telephony:people"), ("/dashboard/people/",)),
        Section("Contacts", reverse("contacts"), ("/dashboard/contacts/",)),
        Section("Forwarding", reverse("telephony:settings"), ("/dashboard/forwarding/",)),
    ]
    if settings.DEBUG:  # the simulation panel exists only in the embedded mode
        main.append(Section("Simulate", reverse("telephony:simulate"), ("/dashboard/simulate/",)))
    account = [
        Section("Billing", reverse("billing"), ("/dashboard/billing/", "/pricing/")),
        Section("Privacy", reverse("privacy:center"), ("/privacy/",)),
        Section("Account", reverse("account"), ("/account/",)),
    ]
    if user.is_staff:
        account.append(Section("Admin", "/admin/", ("/admin/",)))
    return main, account


def current_section(path: str, sections: list[Section]) -> Section | None:
    """The section a path belongs to: its exact URL, else the longest prefix that matches."""
    best: Section | None = None
    best_length = -1
    for section in sections:
        if path == section.url:
            return section
        for prefix in section.prefixes:
            if path.startswith(prefix) and len(prefix) > best_length:
                best, best_length = section, len(prefix)
    return best


@register.inclusion_tag("numfree/_nav.html", takes_context=True)
def main_nav(context: template.Context) -> dict[str, Any]:
    request = context["request"]
    user = request.user
    if not user.is_authenticated:
        return {"signed_in": False, "path": request.path}
    # A page that counted unheard voicemail already (the home page) passes it on: one query less.
    unheard = context.get("unheard_voicemail")
    main, account = _sections(user, unheard if isinstance(unheard, int) else unheard_voicemail(user))
    return {
        "signed_in": True,
        "main": main,
        "account": account,
        "current": current_section(request.path, [*main, *account]),
        "user": user,
        "csrf_token": context.get("csrf_token"),
    }
