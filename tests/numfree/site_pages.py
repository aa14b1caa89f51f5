"""The site's pages as a visitor reaches them: the URLconf's parameterless GET pages plus every
same-origin link followed from them, for a given client; and a seeded set-up account to crawl as.

Used by the navigation tests (Django's test client) and the 390 px / axe-core browser tests.
"""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from accounts.models import SignIn
from billing.models import BillingAccount
from signaling import contacts
from telephony.models import CallLog, Forwarding, PhoneNumber, SmsLog, Voicemail

NUMBER = "+14155550123"
# Not pages a person reads: machine endpoints, the admin (Django's own), downloads, actions.
SKIPPED_PREFIXES = ("/admin/", "/api/", "/webhooks/", "/_fake/", "/healthz", "/logout/", "/static/")
SKIPPED_SUFFIXES = ("/audio/", "/download/", ".csv", ".json", "/statuses/", "/status/")


def _walk(patterns: list[Any], prefix: str = "") -> list[str]:
    paths = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            paths += _walk(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and "<" not in route and "(" not in route and "^" not in route:
            paths.append("/" + route)
    return paths


def url_conf_pages() -> list[str]:
    """Every parameterless path of the URLconf that a person might open."""
    return [path for path in _walk(get_resolver().url_patterns) if is_page(path)]


def is_page(path: str) -> bool:
    return not path.startswith(SKIPPED_PREFIXES) and not path.endswith(SKIPPED_SUFFIXES)


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href and not dict(attrs).get("download"):
                self.hrefs.append(href)


def links(base: str, html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    found = []
    for href in parser.hrefs:
        parts = urlsplit(urljoin("http://testserver" + base, href))
        if parts.netloc == "testserver" and is_page(parts.path):
            found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def crawl(client: Any, seeds: list[str], *, limit: int = 200) -> dict[str, int]:
    """{path: status} of every HTML page reached from the seeds by GET and same-origin links."""
    seen: dict[str, int] = {}
    queue = list(dict.fromkeys(seeds))
    while queue and len(seen) < limit:
        path = queue.pop(0)
        if path in seen:
            continue
        response = client.get(path)
        seen[path] = response.status_code
        if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
            queue += [link for link in links(path, response.content.decode()) if link not in seen]
    return seen


def set_up(
    user: Any, *, calls: int = 3, texts: int = 3, voicemails: int = 2, heard: int = 0, number: str = NUMBER
) -> None:
    """An account that has done every step of the checklist, with some history and a contact request."""
    BillingAccount.objects.create(
        user=user,
        stripe_customer_id=f"cus_{user.pk}",
        stripe_subscription_id=f"sub_{user.pk}",
        plan="monthly",
        status="active",
        had_service=True,
        current_period_end=timezone.now() + timedelta(days=20),
    )
    PhoneNumber.objects.create(user=user, e164=number, twilio_sid=f"PN{user.pk:032d}", country="US")
    Forwarding.objects.create(user=user, phone="+14155550999", phone_verified=True)
    SignIn.objects.create(user=user)
    now = timezone.now()
    for i in range(calls):
        CallLog.objects.create(
            user=user,
            kind=CallLog.KIND_PHONE,
            direction="in",
            external_id=f"CA{user.pk:016d}{i:016d}",
            peer_number=f"+1202555{i:04d}",
            started_at=now - timedelta(minutes=i),
            missed=True,
            status="no-answer",
        )
    for i in range(texts):
        SmsLog.objects.create(
            user=user,
            direction="in",
            message_sid=f"SM{user.pk:016d}{i:016d}",
            peer_number=f"+1303555{i:04d}",
            our_number=number,
            status="received",
            created_at=now - timedelta(minutes=i),
            forwarded_at=now,
        )
    for i in range(voicemails):
        Voicemail.objects.create(
            user=user,
            recording_sid=f"RE{user.pk:016d}{i:016d}",
            call_sid=f"CA{user.pk:016d}{i:016d}",
            peer_number="+12025550000",
            heard=i < heard,
        )


def add_contacts(user: Any, make_user: Any) -> None:
    """One mutual contact, one request waiting for the user, one the user sent."""
    friend, asker = make_user("friend@example.com"), make_user("asker@example.com")
    contacts.ask(friend, user.email)
    contacts.ask(user, friend.email)
    contacts.ask(asker, user.email)
    contacts.ask(user, "someone@example.net")
