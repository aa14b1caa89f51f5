"""Dismissing the policy notice returns the user to the page they were on, and never to another site."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("target", ["/dashboard/", "/privacy/?tab=1#top", "https://testserver/dashboard/"])
def test_dismissing_returns_to_a_page_of_this_site(alice_client, target):
    response = alice_client.post("/privacy/notice/dismiss/", {"next": target})
    assert response.status_code == 302 and response["Location"] == target


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "/\\evil.example/",  # browsers read a backslash as a slash: //evil.example/
        "/\t/evil.example/",  # browsers drop tabs and newlines in URLs: //evil.example/
        "/\n/evil.example/",
        "\\\\evil.example/",
        "https://evil.example/",
        "javascript:alert(1)",
        "http://testserver/dashboard/",  # not HTTPS outside DEBUG
        "",
    ],
)
def test_dismissing_never_redirects_to_another_site_or_scheme(alice_client, target):
    response = alice_client.post("/privacy/notice/dismiss/", {"next": target})
    assert response.status_code == 302 and response["Location"] == "/"


def test_anonymous_visitors_cannot_dismiss(client):
    response = client.post("/privacy/notice/dismiss/", {"next": "/dashboard/"})
    assert response.status_code == 302 and response["Location"].startswith("/login/")
