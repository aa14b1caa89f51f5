"""Every HTML form the site shows, submitted with what hypothesis generates: never a 500.

Forms are found, not listed, so a new one is covered the day it ships: the
test walks the URLconf for pages without parameters, follows the site's own
links and the links in the emails it sent (a password reset, say), and reads
every <form> on every page it reaches, as an anonymous visitor and as a
signed-in user who has a plan, a number, a voicemail, a blocked number and
contacts (and, with DEBUG on, the simulation panel). Each form is then sent
through Django's test client with generated values for its fields: typed
values, any text (NUL, very long, other scripts), the page's own value, or the
field left out. The user is signed in again and rate limits are reset before
each submission, so a logout or a 429 does not hide the code behind them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from numfree.outbox.testing import run_pending
from signaling import contacts
from telephony.models import BlockedNumber, Voicemail
from tests.conftest import make_user
from tests.telephony.conftest import give_plan

pytestmark = pytest.mark.django_db

MAX_PAGES = 150
# Not pages a person fills in: the API and webhooks (schemathesis covers the
# API), Django's admin beyond its login page, files and exports.
SKIPPED = re.compile(r"^/(api|webhooks|static)/|^/admin/(?!login/)|/audio/|/download/|[?&]export=")
PER_FORM = settings(
    max_examples=min(20, settings().max_examples),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # the input type, or "select" / "textarea"
    value: str = ""
    options: tuple[str, ...] = ()


@dataclass
class Form:
    page: str
    action: str
    method: str
    fields: list[Field] = field(default_factory=list)

    def key(self) -> tuple[str, str, tuple[str, ...]]:
        return (self.method, urlsplit(self.action).path, tuple(sorted(f.name for f in self.fields)))


class FormReader(HTMLParser):
    """The forms and same-site links of one HTML page."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[Form] = []
        self.links: set[str] = set()
        self._form: Form | None = None
        self._select: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "a" and a.get("href", "").startswith("/"):
            self.links.add(urljoin(self.page, a["href"]).split("#")[0])
        elif tag == "form":
            method = a.get("method", "get").lower()
            self._form = Form(self.page, urljoin(self.page, a.get("action") or self.page), method)
            self.forms.append(self._form)
        elif tag == "option" and self._select is not None:
            self._select[1].append(a.get("value", ""))
        elif self._form is None or not a.get("name"):
            return
        elif tag in {"input", "button"}:
            kind = a.get("type", "text" if tag == "input" else "submit").lower()
            self._form.fields.append(Field(a["name"], kind, a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "textarea":
            self._form.fields.append(Field(a["name"], "textarea"))
        elif tag == "select":
            self._select = (a["name"], [])

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None and self._form is not None:
            name, options = self._select
            self._form.fields.append(Field(name, "select", options[0] if options else "", tuple(options)))
            self._select = None


def parameterless_pages(patterns: list | None = None, prefix: str = "/") -> Iterator[str]:
    """The URLconf's routes that need no argument: where the site's pages start."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = str(entry.pattern).lstrip("^").rstrip("$")
        if "<" in route or "(" in route or "\\" in route:
            continue
        if isinstance(entry, URLResolver):
            yield from parameterless_pages(entry.url_patterns, prefix + route)
        elif isinstance(entry, URLPattern):
            yield prefix + route


def emailed_links() -> set[str]:
    run_pending()
    found = {urlsplit(url).path for message in mail.outbox for url in re.findall(r"https?://\S+", message.body)}
    mail.outbox.clear()
    return found


def discover_forms(client: Client, seeds: list[str], *, follow: bool = True) -> list[Form]:
    """Every distinct form on the seed pages and, when following, the pages their links reach."""
    queue, seen, forms = list(dict.fromkeys(seeds)), set(), {}
    while queue and len(seen) < MAX_PAGES:
        page = queue.pop(0)
        if page in seen or SKIPPED.search(page):
            continue
        seen.add(page)
        response = client.get(page)
        assert response.status_code < 500, page
        if response.status_code in {301, 302} and response["Location"].startswith("/"):
            queue.append(urljoin(page, response["Location"]))
        if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
            continue
        reader = FormReader(page)
        reader.feed(response.content.decode())
        for form in reader.forms:
            forms.setdefault(form.key(), form)
        if follow:
            queue.extend(link for link in sorted(reader.links) if link not in seen)
    return list(forms.values())


any_text = st.one_of(st.text(max_size=40), st.text(min_size=200, max_size=3000), st.just("\x00"))
# The edges of each type, each sent once per field before the generated values:
# the first and last day datetime knows, impossible days, 64-bit overflow.
EDGES = {
    "date": ["0001-01-01", "9999-12-31", "0000-00-00", "2024-02-30"],
    "number": ["0", "-1", str(2**63), str(-(2**63) - 1), "1e309", "NaN"],
}
TYPED = {
    "email": st.emails().map(str),
    "number": st.integers(min_value=-(10**30), max_value=10**30).map(str),
    "date": st.dates().map(str),
    "tel": st.from_regex(r"\+?[0-9]{1,20}", fullmatch=True),
    "password": st.text(max_size=80),
}


def value_for(f: Field) -> st.SearchStrategy[str | None]:
    """Half the time a value of the field's type (when it has one), else the page's, any text, or nothing."""
    page_value = st.sampled_from(f.options) if f.options else st.just(f.value)
    untyped = st.one_of(page_value, any_text, st.none())
    return TYPED[f.kind] | untyped if f.kind in TYPED else untyped


def edge_cases(form: Form) -> Iterator[dict[str, str]]:
    as_shown = {f.name: f.value for f in form.fields}
    for f in form.fields:
        for edge in EDGES.get(f.kind, []):
            yield {**as_shown, f.name: edge}


def send(client: Client, form: Form, data: dict[str, str], sign_in: object) -> None:
    cache.clear()
    if sign_in is not None:
        client.force_login(sign_in)
    response = client.get(form.action, data) if form.method == "get" else client.post(form.action, data)
    assert response.status_code < 500, (form.action, data)


def fuzz(client: Client, form: Form, sign_in: object) -> None:
    for data in edge_cases(form):
        send(client, form, data, sign_in)

    @PER_FORM
    @given(values=st.fixed_dictionaries({f.name: value_for(f) for f in form.fields if f.name != "csrfmiddlewaretoken"}))
    def submit(values: dict[str, str | None]) -> None:
        send(client, form, {name: value for name, value in values.items() if value is not None}, sign_in)

    submit()


@pytest.fixture
def member(db):  # type: ignore[no-untyped-def]
    """A user with something on every page: plan, number, voicemail, blocked number, contacts."""
    from telephony import twilio_api
    from telephony.models import PhoneNumber

    user = make_user("member@example.com", name="Member")
    give_plan(user)
    bought = twilio_api.buy_number(twilio_api.search_numbers("US", "415")[0].e164)
    PhoneNumber.objects.create(user=user, e164=bought.e164, twilio_sid=bought.sid, country="US")
    Voicemail.objects.create(
        user=user, recording_sid="RE" + "0" * 32, peer_number="+14155550100", duration_s=3,
        created_at=timezone.now() - timedelta(hours=1),
    )  # fmt: skip
    BlockedNumber.objects.create(user=user, number="+14155550111")
    mutual, asking = make_user("mutual@example.com"), make_user("asking@example.com")
    contacts.accept(user, str(contacts.ask(mutual, user.email).id))
    contacts.ask(asking, user.email)
    contacts.ask(user, "stranger@example.com")
    return user


def run_every_form(client: Client, seeds: list[str], sign_in: object = None, *, follow: bool = True) -> list[Form]:
    forms = discover_forms(client, seeds, follow=follow)
    # Buttons alone (log out, release the number, export) go last: they change what the other forms see.
    for form in sorted(forms, key=lambda form: all(f.kind in {"hidden", "submit"} for f in form.fields)):
        fuzz(client, form, sign_in)
    return forms


def test_no_form_a_visitor_can_fill_in_answers_a_server_error(client, bob) -> None:  # type: ignore[no-untyped-def]
    client.post("/password-reset/", {"email": bob.email})

    forms = run_every_form(client, [*emailed_links(), *parameterless_pages(), "/admin/login/"])

    assert {"/signup/", "/login/", "/password-reset/"} <= {urlsplit(form.action).path for form in forms}
    assert any(form.action.startswith("/reset/") for form in forms), "the emailed reset link's form was not reached"


def test_no_form_a_signed_in_user_can_fill_in_answers_a_server_error(client, member) -> None:  # type: ignore[no-untyped-def]
    client.force_login(member)
    client.post("/dashboard/forwarding/email/", {"email": "forward@example.com"})
    client.post("/dashboard/forwarding/phone/", {"phone": "+14155550199"})  # shows the code's form

    forms = run_every_form(client, [*emailed_links(), *parameterless_pages()], sign_in=member)

    actions = {urlsplit(form.action).path for form in forms}
    assert {"/dashboard/forwarding/phone/confirm/", "/dashboard/calls/", "/privacy/center/delete/"} <= actions
    assert any("/dashboard/voicemail/" in action for action in actions)


def test_no_simulation_panel_input_answers_a_server_error(client, member, settings) -> None:  # type: ignore[no-untyped-def]
    settings.DEBUG = True
    client.force_login(member)

    forms = run_every_form(client, ["/dashboard/simulate/"], sign_in=member, follow=False)

    assert "/dashboard/simulate/" in {urlsplit(form.action).path for form in forms}
