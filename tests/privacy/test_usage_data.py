"""First-party usage data: page, address, browser family and time — never against DNT, GPC or an objection."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from privacy.models import PageView
from privacy.usage import browser_family
from twofactor.testing import force_login_with_two_factor

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
EDGE = CHROME + " Edg/131.0.0.0"


@pytest.mark.django_db
def test_a_page_view_records_address_browser_family_path_and_time_only(client):
    client.get("/privacy/?utm_source=newsletter&email=x@y.z", HTTP_USER_AGENT=FIREFOX, REMOTE_ADDR="198.51.100.7")
    view = PageView.objects.get()
    assert (view.path, view.browser, view.ip, view.user) == ("/privacy/", "Firefox", "198.51.100.7", None)
    assert view.viewed_at


@pytest.mark.django_db
def test_do_not_track_stops_recording(client):
    client.get("/privacy/", HTTP_DNT="1")
    assert not PageView.objects.exists()


@pytest.mark.django_db
def test_global_privacy_control_stops_recording(client):
    client.get("/privacy/", HTTP_SEC_GPC="1")
    assert not PageView.objects.exists()


@pytest.mark.django_db
def test_users_who_objected_are_not_recorded(alice_client):
    alice_client.post("/privacy/center/object/", {"analytics": "off"})
    alice_client.get("/privacy/")
    alice_client.get("/privacy/center/")
    assert not PageView.objects.exists()


@pytest.mark.django_db
def test_api_webhook_static_and_admin_script_requests_are_not_page_views(client):
    for path in ("/api/me/", "/webhooks/twilio/sms/", "/static/numfree/site.css", "/admin/jsi18n/", "/healthz"):
        client.get(path)
    assert not PageView.objects.exists()


@pytest.mark.django_db
def test_failed_and_non_get_requests_are_not_page_views(client):
    client.get("/no-such-page/")
    client.post("/privacy/")
    assert not PageView.objects.exists()


def test_only_the_browser_family_is_kept_from_the_user_agent():
    assert browser_family(FIREFOX) == "Firefox"
    assert browser_family(CHROME) == "Chrome"
    assert browser_family(EDGE) == "Edge"
    assert browser_family("curl/8.5.0") == "Bot"
    assert browser_family("") == "Other"


@pytest.mark.django_db
def test_staff_see_visits_per_day_as_a_chart_and_no_individual_rows(client, staff):
    PageView.objects.create(ip="198.51.100.7", browser="Firefox", path="/secret-path/")
    PageView.objects.create(ip="198.51.100.8", browser="Chrome", path="/", viewed_at=timezone.now() - timedelta(days=2))
    force_login_with_two_factor(client, staff)
    page = client.get("/admin/privacy/pageview/").content.decode()
    assert "<svg" in page and "2 page views in the last 30 days" in page
    assert "198.51.100.7" not in page and "/secret-path/" not in page
    assert client.get(f"/admin/privacy/pageview/{PageView.objects.first().pk}/change/").status_code in (302, 403, 404)


@pytest.mark.django_db
def test_non_staff_cannot_see_the_chart(alice_client):
    assert alice_client.get("/admin/privacy/pageview/").status_code == 302


# --- pages whose path carries a secret: only the URL pattern is kept ---------

SECRET = "s3cr3t-T0KEN-4c1d"


def _path(link: str) -> str:
    return urlsplit(link).path


def _secret_pages(alice, unverified) -> dict[str, str]:
    """Real links as the emails carry them -> the pattern that may be stored."""
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    from accounts import verification

    uid = urlsafe_base64_encode(force_bytes(alice.pk))
    alice.pending_email = "alice.new@example.com"
    alice.save()
    return {
        f"/reset/{uid}/{default_token_generator.make_token(alice)}/": "/reset/<uidb64>/<token>/",
        _path(verification.verification_link(unverified)): "/verify-email/<str:token>/",
        _path(verification.email_change_link(alice)): "/confirm-email/<str:token>/",
        f"/dashboard/forwarding/email/{SECRET}/": "/dashboard/forwarding/email/<str:token>/",
    }


def _secrets(path: str) -> list[str]:
    # Every path segment after the first names no page: it is a token or an id.
    return [segment for segment in path.strip("/").split("/")[1:] if segment not in {"email"}]


@pytest.mark.django_db
def test_visiting_a_link_with_a_token_stores_the_pages_pattern_and_never_the_token(client, alice, unverified):
    pages = _secret_pages(alice, unverified)
    for url in pages:  # opened from the email, signed out
        client.get(url)
    client.force_login(alice)
    client.get(f"/dashboard/forwarding/email/{SECRET}/")
    stored = list(PageView.objects.values_list("path", flat=True))
    assert set(pages.values()) <= set(stored)
    for url in pages:
        for secret in _secrets(url.removeprefix("/dashboard/forwarding")):
            assert not any(secret in path for path in stored), (secret, stored)


@pytest.mark.django_db
def test_ordinary_pages_are_stored_as_their_pattern(alice_client):
    alice_client.get("/privacy/")
    alice_client.get("/dashboard/")
    alice_client.get("/")
    assert sorted(PageView.objects.values_list("path", flat=True)) == ["/", "/dashboard/", "/privacy/"]


def _scrub() -> None:
    from importlib import import_module

    from django.apps import apps

    import_module("privacy.migrations.0003_page_views_keep_routes").keep_routes_only(apps, None)


@pytest.mark.django_db
def test_the_migration_replaces_stored_paths_with_their_pattern_and_drops_unknown_ones(alice, unverified):
    pages = _secret_pages(alice, unverified)
    for path in [*pages, "/privacy/", "/no-longer-a-page/abcdef/", "/privacy/"]:
        PageView.objects.create(user=alice, ip="198.51.100.7", browser="Firefox", path=path)
    _scrub()
    stored = sorted(PageView.objects.values_list("path", flat=True))
    assert stored == sorted([*pages.values(), "/privacy/", "/privacy/"])
    _scrub()  # running it again changes nothing
    assert sorted(PageView.objects.values_list("path", flat=True)) == stored
