"""The published policy, filled in from this deployment's configuration, and what would contradict it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape
from urllib.parse import urlsplit

from django.conf import settings
from django.db import DatabaseError
from django.template.loader import render_to_string

from privacy.models import PolicyVersion

LOCAL_HOSTS = {"", "localhost", "127.0.0.1", "::1"}
RELAY_SENTENCE = "When no direct path between two callers exists, the audio may pass through NumFree's relay server"
NO_RELAY_SENTENCE = "NumFree servers only relay signaling metadata (who is calling whom), never the call audio itself."


@dataclass(frozen=True)
class Processor:
    name: str
    purpose: str


def turn_urls() -> list[str]:
    """The TURN relays handed to callers (signaling's setting), if any."""
    configured = getattr(settings, "SIGNALING_TURN_URLS", None) or []
    if isinstance(configured, str):
        configured = [configured]
    return [url for url in configured if str(url).startswith(("turn:", "turns:"))]


def audio_may_be_relayed() -> bool:
    return bool(turn_urls())


def database_processor(db: dict | None = None) -> Processor | None:
    db = db or settings.DATABASES["default"]
    host = str(db.get("HOST") or "")
    if db["ENGINE"].endswith("sqlite3") or host in LOCAL_HOSTS or host.startswith("/"):
        return None  # on NumFree's own server: not a third party
    return Processor(settings.PRIVACY_DATABASE_PROVIDER or host, "database hosting")


def email_processor() -> Processor | None:
    host = getattr(settings, "EMAIL_HOST", "")
    if not settings.EMAIL_BACKEND.endswith("smtp.EmailBackend") or host in LOCAL_HOSTS:
        return None
    return Processor(settings.PRIVACY_EMAIL_PROVIDER or host, "email delivery, including texts forwarded to your inbox")


def processors() -> list[Processor]:
    """The third parties this deployment shares data with, as the policy lists them."""
    found = [
        Processor("Twilio", "voice and SMS routing infrastructure"),
        Processor("Stripe", "payment processing"),
        database_processor(),
        email_processor(),
    ]
    return [p for p in found if p is not None]


def policy_context() -> dict[str, object]:
    return {
        "retention_days": settings.RETENTION_DAYS,
        "processors": processors(),
        "audio_may_be_relayed": audio_may_be_relayed(),
        "relay_sentence": RELAY_SENTENCE,
        "no_relay_sentence": NO_RELAY_SENTENCE,
        "version": _current_version(),
    }


def _current_version() -> PolicyVersion | None:
    try:
        return PolicyVersion.objects.current()
    except DatabaseError:  # `check --deploy` before the first migrate: the page without its version line
        return None


def as_text(html: str) -> str:
    text = re.sub(r"<[^>]+>", " ", html)
    return re.sub(r"\s+", " ", unescape(text)).strip()


def rendered_policy_text() -> str:
    return as_text(render_to_string("privacy/policy_text.html", policy_context()))


def contradictions(text: str) -> list[str]:
    """Where the policy text says something this configuration makes untrue."""
    found = []
    if f"retained for {settings.RETENTION_DAYS} days" not in text:
        found.append(f"the page does not state the configured retention ({settings.RETENTION_DAYS} days)")
    if audio_may_be_relayed():
        if RELAY_SENTENCE not in text:
            found.append("a TURN relay is configured but the page does not say audio may pass through it")
        if NO_RELAY_SENTENCE in text:
            found.append("a TURN relay is configured but the page says audio never passes through NumFree's servers")
    for processor in processors():
        if processor.name not in text:
            found.append(f"{processor.name} processes data ({processor.purpose}) but the page does not name it")
    for host in _third_party_hosts(getattr(settings, "SIGNALING_STUN_URLS", None) or []):
        found.append(f"a third-party STUN server ({host}) is configured; the policy promises no third parties")
    for host in _third_party_hosts(turn_urls()):
        found.append(f"a third-party TURN relay ({host}) is configured; the page says audio may pass NumFree's own")
    return found


def _third_party_hosts(ice_urls: list[str]) -> list[str]:
    """The hosts of stun:/turn: URLs that are neither the site's host nor under it."""
    own = urlsplit(settings.PUBLIC_URL).hostname or ""
    found = []
    for url in ice_urls:
        scheme, _, rest = str(url).partition(":")
        host = urlsplit(f"{scheme}://{rest}").hostname or ""
        if host and own and not (host == own or host.endswith("." + own)):
            found.append(host)
    return found
