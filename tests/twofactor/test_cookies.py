"""The whole two-factor flow sets only the session and CSRF cookies: no "remember this device"."""

from __future__ import annotations

import re

from django.test import Client

from tests.conftest import PASSWORD
from tests.twofactor.conftest import code, recovery_codes_on


class Recording(Client):
    """A test client that notes the name of every cookie any response sets."""

    def __init__(self) -> None:
        super().__init__()
        self.set: set[str] = set()

    def request(self, **request):  # type: ignore[no-untyped-def]
        response = super().request(**request)
        self.set.update(response.cookies.keys())
        return response


def test_enrolling_logging_out_and_in_with_a_code_and_a_recovery_code_sets_only_the_two_cookies(alice):
    browser = Recording()
    browser.get("/login/")
    browser.post("/login/", {"username": "alice@example.com", "password": PASSWORD})
    page = browser.get("/account/two-factor/").content.decode()
    secret = re.search(r'data-secret="([A-Z2-7]+)"', page).group(1)
    codes = recovery_codes_on(browser.post("/account/two-factor/", {"code": code(secret)}).content.decode())
    browser.post("/logout/")
    for value in (code(secret, steps=1), codes[0]):
        browser.get("/login/")
        browser.post("/login/", {"username": "alice@example.com", "password": PASSWORD})
        browser.get("/login/two-factor/")
        assert browser.post("/login/two-factor/", {"code": value}).status_code == 302
        browser.get("/dashboard/")
        browser.post("/logout/")
    assert browser.set == {"sessionid", "csrftoken"}
