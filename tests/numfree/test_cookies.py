"""Only `sessionid` and `csrftoken`, ever: a crawl of every page, anonymous and logged in.

Pages are discovered, not listed: every URL pattern without parameters, every
same-site link, stylesheet, script, image and form action found on the pages
visited, with redirects followed by hand so each response's Set-Cookie is
seen. The main forms are submitted too. New pages are crawled as apps add them.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator
from html.parser import HTMLParser
from http.cookies import Morsel
from urllib.parse import urljoin, urlsplit

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern

from accounts.models import SignIn, User
from numfree.outbox.testing import run_pending
from tests.conftest import PASSWORD, make_user
from twofactor.testing import force_login_with_two_factor

ALLOWED_COOKIES = {"sessionid", "csrftoken"}
MAX_PAGES = 1500  # per visitor; reaching it fails the test, so "every page" stays true
NEW_PASSWORD = "crawling is fun 1234"


# --- Discovering pages ------------------------------------------------------------


def _literal_route(pattern: object) -> str | None:
    """The fixed text a pattern matches, or None when it takes parameters."""
    if isinstance(pattern, RoutePattern):
        route = str(pattern)
        return None if "<" in route else route
    if isinstance(pattern, RegexPattern):
        regex = pattern.regex.pattern.removeprefix("^").removesuffix("$").removesuffix(r"\Z")
        if re.search(r"[\\()\[\]?*+{}|^$.]", re.sub(r"\\[./-]", "", regex)):
            return None
        return re.sub(r"\\([./-])", r"\1", regex)
    return None


def parameterless_paths(patterns: list | None = None, prefix: str = "/") -> Iterator[str]:
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = _literal_route(entry.pattern)
        if route is None:
            continue
        if isinstance(entry, URLResolver):
            yield from parameterless_paths(entry.url_patterns, prefix + route)
        elif isinstance(entry, URLPattern):
            yield prefix + route


class _References(HTMLParser):
    """Every URL a page points at: links, assets, and GET form actions."""

    ATTRIBUTES = {
        "a": "href",
        "link": "href",
        "script": "src",
        "img": "src",
        "audio": "src",
        "source": "src",
        "iframe": "src",
    }

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        attribute = self.ATTRIBUTES.get(tag)
        if attribute and values.get(attribute):
            self.urls.append(values[attribute] or "")
        if tag == "form" and (values.get("method") or "get").lower() == "get" and values.get("action"):
            self.urls.append(values["action"] or "")


def same_site_references(page_url: str, html: str) -> list[str]:
    parser = _References()
    parser.feed(html)
    found = []
    for reference in parser.urls:
        url = urljoin("http://testserver" + page_url, reference.strip())
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and parts.netloc in ("testserver", urlsplit(settings.PUBLIC_URL).netloc):
            found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


# --- Recording cookies ------------------------------------------------------------------


class Crawler:
    """A browser that remembers every cookie any response tried to set."""

    def __init__(self, visitor: str, client: Client | None = None) -> None:
        self.visitor = visitor
        self.client = client or Client()
        self.cookies: list[tuple[str, str, Morsel]] = []  # (visitor, url, morsel)
        self.seen: set[str] = set()
        self.pages = 0

    def request(self, method: str, url: str, data: dict | None = None, **extra: str):  # type: ignore[no-untyped-def]
        response = getattr(self.client, method)(url, data or {}, **extra)
        self._record(url, response)
        for _hop in range(10):
            if response.status_code not in (301, 302, 303, 307, 308):
                break
            url = urljoin("http://testserver" + urlsplit(url).path, response["Location"])
            parts = urlsplit(url)
            if parts.netloc not in ("testserver", ""):
                break
            url = parts.path + (f"?{parts.query}" if parts.query else "")
            self.seen.add(parts.path)
            response = self.client.get(url)
            self._record(url, response)
        return response

    def _record(self, url: str, response) -> None:  # type: ignore[no-untyped-def]
        self.cookies.extend((self.visitor, url, morsel) for morsel in response.cookies.values())

    def crawl(self, starts: list[str]) -> None:
        queue = deque(starts)
        while queue:
            url = queue.popleft()
            path = urlsplit(url).path
            if path in self.seen:
                continue
            self.seen.add(path)
            self.pages += 1
            assert self.pages < MAX_PAGES, f"{self.visitor}: more than {MAX_PAGES} pages; raise MAX_PAGES"
            response = self.request("get", url)
            if "text/html" in response.get("Content-Type", ""):
                queue.extend(same_site_references(url, response.content.decode(errors="replace")))

    def form_page(self, url: str) -> str:
        response = self.request("get", url)
        assert response.status_code == 200, f"{url} answered {response.status_code}"
        return response.content.decode()


def emailed_path(marker: str) -> str:
    run_pending()
    for message in reversed(mail.outbox):
        match = re.search(r"https?://\S+", message.body)
        if match and marker in match.group(0):
            return urlsplit(match.group(0)).path
    raise AssertionError(f"no email with a {marker} link")


# --- The crawl ---------------------------------------------------------------------------


@pytest.fixture
def crawl_everything(db) -> list[tuple[str, str, Morsel]]:
    """Crawl as an anonymous visitor, a verified user, an unverified user and a superuser
    (who sees every admin page), then submit the main forms; return every cookie set."""
    starts = sorted(set(parameterless_paths()))
    assert "/" in starts and "/signup/" in starts and "/admin/" in starts

    verified = make_user("vera@example.com", name="Vera")
    unverified = make_user("una@example.com", verified=False)
    staff = User.objects.create_superuser("root@example.com", PASSWORD)
    SignIn.objects.create(user=verified)  # something for the admin to list

    crawlers = []
    anonymous = Crawler("anonymous")
    anonymous.crawl(starts)
    crawlers.append(anonymous)
    for visitor, user in (("verified", verified), ("unverified", unverified), ("staff", staff)):
        crawler = Crawler(visitor)
        if user.is_staff:
            force_login_with_two_factor(crawler.client, user)  # the admin needs two-factor sign-in
        else:
            crawler.client.force_login(user)
        crawler.crawl(starts)
        assert crawler.client.get("/dashboard/").status_code == 200, f"the crawl logged {visitor} out"
        crawlers.append(crawler)

    forms = Crawler("forms")
    crawlers.append(forms)
    # Sign up, confirm the address, log in.
    forms.form_page("/signup/")
    forms.request(
        "post", "/signup/", {"email": "sid@example.com", "name": "Sid", "password1": PASSWORD, "password2": PASSWORD}
    )
    forms.request("get", emailed_path("/verify-email/"))
    forms.form_page("/login/")
    response = forms.request("post", "/login/", {"username": "sid@example.com", "password": PASSWORD})
    assert response.status_code == 200 and response.wsgi_request.path == "/dashboard/"
    # Account page forms.
    forms.form_page("/account/")
    forms.request("post", "/account/", {"name": "Sid Vicious"})
    forms.request("post", "/account/resend-verification/")
    forms.request("post", "/account/email/", {"new_email": "sid.new@example.com", "password": PASSWORD})
    forms.request("get", emailed_path("/confirm-email/"))
    forms.form_page("/account/password/")
    forms.request(
        "post",
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert User.objects.get(email="sid.new@example.com").check_password(NEW_PASSWORD)
    forms.form_page("/dashboard/")
    forms.request("post", "/logout/")
    # Password reset, as an anonymous visitor.
    forms.form_page("/password-reset/")
    forms.request("post", "/password-reset/", {"email": "sid.new@example.com"})
    set_password = forms.request("get", emailed_path("/reset/")).wsgi_request.path
    forms.request("post", set_password, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    # A failed login and the admin's login.
    forms.request("post", "/login/", {"username": "sid.new@example.com", "password": "wrong"})
    forms.form_page("/admin/login/")
    forms.request("post", "/admin/login/", {"username": "root@example.com", "password": PASSWORD})
    forms.crawl(["/admin/"])

    return [cookie for crawler in crawlers for cookie in crawler.cookies]


def test_every_page_and_form_sets_only_the_session_and_csrf_cookies_both_same_site_lax(crawl_everything):
    strays = sorted({(m.key, visitor, url) for visitor, url, m in crawl_everything if m.key not in ALLOWED_COOKIES})
    assert strays == []

    sessions = [
        (url, morsel) for _visitor, url, morsel in crawl_everything if morsel.key == "sessionid" and morsel.value
    ]
    assert sessions, "no page set a session cookie: the crawl did not log in"
    for url, morsel in sessions:
        assert morsel["httponly"], f"{url}: sessionid is not HttpOnly"
        assert morsel["samesite"] == "Lax", f"{url}: sessionid is SameSite={morsel['samesite']}"

    tokens = [(url, morsel) for _visitor, url, morsel in crawl_everything if morsel.key == "csrftoken" and morsel.value]
    assert tokens, "no page set a CSRF cookie: the crawl saw no form"
    for url, morsel in tokens:
        assert morsel["samesite"] == "Lax", f"{url}: csrftoken is SameSite={morsel['samesite']}"


def test_route_discovery_skips_patterns_with_parameters_and_keeps_fixed_ones():
    paths = set(parameterless_paths())
    assert {"/", "/login/", "/dashboard/", "/account/password/", "/admin/", "/admin/accounts/user/"} <= paths
    assert not any("<" in path or "(" in path for path in paths)
