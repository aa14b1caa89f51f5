"""One test per sentence of the privacy policy that states a behaviour, asserted through the running app.

Each test is named after its sentence. The sentence is quoted in the docstring.
"""

from __future__ import annotations

import base64
import io
import json
import re
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone

from numfree.outbox.testing import run_pending
from privacy.models import ExportArchive, PageView
from tests.conftest import PASSWORD

ROOT = Path(settings.BASE_DIR)
PAGES = ["/", "/privacy/", "/privacy/extension/", "/login/", "/signup/"]
SIGNED_IN_PAGES = ["/dashboard/", "/account/", "/privacy/center/"]


def _cookies_set(client: Client, paths: list[str]) -> set[str]:
    names = set()
    for path in paths:
        response = client.get(path, follow=True)
        names |= set(response.cookies.keys())
    return names | set(client.cookies.keys())


def _token(client: Client, email: str = "alice@example.com") -> dict:
    response = client.post("/api/auth/token/", {"email": email, "password": PASSWORD}, content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()


def _claims(jwt: str) -> dict:
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _export_zip(client: Client) -> zipfile.ZipFile:
    client.post("/privacy/center/export/")
    for _ in range(5):
        if not run_pending():
            break
    archive = ExportArchive.objects.latest("created_at")
    response = client.get(f"/privacy/center/export/{archive.pk}/download/")
    assert response.status_code == 200
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


# --- Data Controller ------------------------------------------------------


@pytest.mark.django_db
def test_contact_privacy_at_numfree_com(client):
    """Contact: privacy@numfree.com"""
    for path in ("/", "/privacy/", "/privacy/extension/"):
        assert "privacy@numfree.com" in client.get(path).content.decode()


# --- Data We Collect -------------------------------------------------------


@pytest.mark.django_db
def test_we_collect_only_whats_necessary_to_provide_the_numfree_service(client):
    """We collect only what's necessary to provide the NumFree service."""
    form = client.get("/signup/").content.decode()
    fields = set(re.findall(r'<input[^>]*name="([^"]+)"', form)) | set(re.findall(r'<select[^>]*name="([^"]+)"', form))
    assert fields <= {"csrfmiddlewaretoken", "email", "name", "password1", "password2"}


@pytest.mark.django_db
def test_account_information_email_address_name_and_password_hashed(client):
    """Account information — email address, name, and password (hashed)"""
    from accounts.models import User

    signup = {"email": "dora@example.com", "name": "Dora", "password1": PASSWORD, "password2": PASSWORD}
    assert client.post("/signup/", signup).status_code == 302
    dora = User.objects.get(email="dora@example.com")
    assert dora.name == "Dora"
    assert PASSWORD not in dora.password
    with connection.cursor() as cursor:
        cursor.execute("SELECT password FROM accounts_user WHERE email = %s", ["dora@example.com"])
        assert PASSWORD not in cursor.fetchone()[0]


@pytest.mark.django_db
def test_phone_number_data_your_numfree_number_call_sms_logs_voicemail(alice_client, alice):
    """Phone number data — your NumFree number, call/SMS logs, voicemail (what the access page and export show)."""
    from telephony.models import CallLog, PhoneNumber, SmsLog

    PhoneNumber.objects.create(user=alice, e164="+15557654321", twilio_sid="PN" + "a" * 32, country="US")
    CallLog.objects.create(
        user=alice, kind="phone", direction="in", external_id="CA" + "b" * 32, peer_number="+15550001111"
    )
    SmsLog.objects.create(
        user=alice,
        direction="in",
        message_sid="SM" + "c" * 32,
        peer_number="+15550002222",
        our_number="+15557654321",
        status="forwarded",
    )
    bundle = _export_zip(alice_client)
    manifest = json.loads(bundle.read("manifest.json"))
    phone_text = " ".join(
        bundle.read(f["path"]).decode() for f in manifest["files"] if f["category"] == "phone" and f["schema"]
    )
    for held in ("+15557654321", "+15550001111", "+15550002222"):
        assert held in phone_text


@pytest.mark.django_db
def test_payment_data_processed_by_stripe_we_never_store_card_numbers(alice_client, alice):
    """Payment data — processed by Stripe; we never store card numbers"""
    alice_client.post("/privacy/center/name/", {"name": "Alice 4242 4242 4242 4242"})
    alice_client.post("/privacy/center/request/", {"kind": "correction", "details": "card 4000056655665556 please"})
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            text = repr(cursor.fetchall())
            assert "4242424242424242" not in text.replace(" ", "") and "4000056655665556" not in text, table


@pytest.mark.django_db
def test_usage_data_ip_address_browser_type_pages_visited_timestamps(client):
    """Usage data — IP address, browser type, pages visited, timestamps"""
    client.get(
        "/privacy/?q=secret",
        HTTP_USER_AGENT="Mozilla/5.0 (X11; rv:133.0) Gecko/20100101 Firefox/133.0",
        REMOTE_ADDR="198.51.100.4",
    )
    view = PageView.objects.values("ip", "browser", "path", "viewed_at", "user").get()
    assert (view["ip"], view["browser"], view["path"], view["user"]) == ("198.51.100.4", "Firefox", "/privacy/", None)
    assert view["viewed_at"] is not None


@pytest.mark.django_db
def test_cookies_session_management_and_authentication_only(client, alice):
    """Cookies — session management and authentication only"""
    names = _cookies_set(client, PAGES)
    response = client.post("/login/", {"username": "alice@example.com", "password": PASSWORD})
    assert response.status_code == 302
    names |= _cookies_set(client, SIGNED_IN_PAGES)
    assert names <= {"sessionid", "csrftoken"}
    assert "sessionid" in names


# --- What we do NOT collect --------------------------------------------------


@pytest.mark.django_db
def test_call_audio_content_we_dont_record_or_listen_to_your_calls(alice, client):
    """Call audio content — we don't record or listen to your calls"""
    from telephony import twilio_api
    from telephony.models import PhoneNumber
    from tests.telephony.conftest import call_params, give_plan, signed_post

    give_plan(alice)
    bought = twilio_api.buy_number(twilio_api.search_numbers("US", "415")[0].e164)
    PhoneNumber.objects.create(user=alice, e164=bought.e164, twilio_sid=bought.sid, country="US")
    twiml = signed_post(Client(), "/webhooks/twilio/voice/", call_params(bought.e164)).content.decode()
    dial = re.search(r"<Dial[^>]*>", twiml)
    if dial:  # forwarding to the user's phone: never recorded
        assert "record" not in dial.group(0).lower()
    ice = client.get("/api/signaling/ice-servers/", HTTP_AUTHORIZATION=f"Bearer {_token(client)['access']}").json()
    assert not [
        u
        for s in ice["iceServers"]
        for u in ([s["urls"]] if isinstance(s["urls"], str) else s["urls"])
        if u.startswith("turn")
    ]


@pytest.mark.django_db
def test_sms_message_content_forwarded_to_your_email_not_stored_by_us(alice):
    """SMS message content — forwarded to your email, not stored by us"""
    from telephony import twilio_api
    from telephony.models import PhoneNumber
    from tests.telephony.conftest import give_plan, inbound_sms_params, signed_post

    give_plan(alice)
    bought = twilio_api.buy_number(twilio_api.search_numbers("US", "415")[0].e164)
    PhoneNumber.objects.create(user=alice, e164=bought.e164, twilio_sid=bought.sid, country="US")
    body = "promise-test-body-7f3a meet at noon"
    assert signed_post(Client(), "/webhooks/twilio/sms/", inbound_sms_params(bought.e164, body=body)).status_code == 200
    for _ in range(5):
        if not run_pending():
            break
    assert any(body in m.body for m in mail.outbox)
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            assert body not in repr(cursor.fetchall()), table


@pytest.mark.django_db
def test_location_data_we_dont_track_where_you_are(alice):
    """Location data — we don't track where you are"""
    from telephony import twilio_api
    from telephony.models import PhoneNumber
    from tests.telephony.conftest import give_plan, inbound_sms_params, signed_post

    give_plan(alice)
    bought = twilio_api.buy_number(twilio_api.search_numbers("US", "415")[0].e164)
    PhoneNumber.objects.create(user=alice, e164=bought.e164, twilio_sid=bought.sid, country="US")
    signed_post(Client(), "/webhooks/twilio/sms/", inbound_sms_params(bought.e164))
    run_pending()
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            text = repr(cursor.fetchall()).upper()
            assert "SAN FRANCISCO" not in text and "94105" not in text, table


# --- Chrome Extension ----------------------------------------------------------


@pytest.mark.django_db
def test_audio_goes_directly_between_callers(alice, client):
    """Calls are peer-to-peer encrypted via WebRTC. Audio goes directly between callers."""
    ice = client.get("/api/signaling/ice-servers/", HTTP_AUTHORIZATION=f"Bearer {_token(client)['access']}").json()
    assert ice["iceTransportPolicy"] == "all"
    urls = [u for s in ice["iceServers"] for u in ([s["urls"]] if isinstance(s["urls"], str) else s["urls"])]
    assert not [u for u in urls if u.startswith(("turn:", "turns:"))]


@pytest.mark.django_db
def test_numfree_servers_only_relay_signaling_metadata_never_the_call_audio(client, settings):
    """NumFree servers only relay signaling metadata (who is calling whom), never the call audio itself."""
    assert "never the call audio itself" in client.get("/privacy/extension/").content.decode()
    settings.SIGNALING_TURN_URLS = ["turn:turn.numfree.com:3478"]
    settings.SIGNALING_TURN_SECRET = "test-secret"
    page = client.get("/privacy/extension/").content.decode()
    assert "never the call audio itself" not in page and "relay server" in page


def test_the_extension_asks_for_storage_notifications_and_the_numfree_host_only():
    """Permissions used: storage, notifications, host_permissions (numfree.com)."""
    manifest = json.loads((ROOT / "extension" / "manifest.json").read_text())
    assert sorted(manifest["permissions"]) == ["notifications", "storage"]
    assert all(re.match(r"^https://([a-z0-9-]+\.)?numfree\.com/\*$", host) for host in manifest["host_permissions"])
    assert "optional_permissions" not in manifest and "optional_host_permissions" not in manifest


def test_the_extension_does_not_access_browsing_history_page_content_bookmarks_downloads_or_other_websites():
    """The extension does not access browsing history, page content, bookmarks, downloads, or any data from other websites."""
    manifest = json.loads((ROOT / "extension" / "manifest.json").read_text())
    assert "content_scripts" not in manifest
    forbidden = {"history", "tabs", "bookmarks", "downloads", "scripting", "webRequest", "cookies", "<all_urls>"}
    assert not forbidden & set(manifest.get("permissions", []) + manifest.get("host_permissions", []))


def test_the_auth_token_is_stored_locally_and_goes_only_to_numfree():
    """storage — stores your authentication token locally in Chrome so you stay signed in. This data never leaves your browser."""
    manifest = json.loads((ROOT / "extension" / "manifest.json").read_text())
    connect = re.search(r"connect-src ([^;]+)", manifest["content_security_policy"]["extension_pages"]).group(1)
    assert all("numfree.com" in source or source == "'self'" for source in connect.split())


# --- How We Use Your Data ---------------------------------------------------------


@pytest.mark.django_db
def test_internal_analytics_no_third_party_trackers(client, alice):
    """Service improvement — internal analytics (no third-party trackers)"""
    pages = [client.get(path, follow=True) for path in PAGES]
    client.force_login(alice)
    pages += [client.get(path, follow=True) for path in SIGNED_IN_PAGES]
    for response in pages:
        html = response.content.decode()
        external = re.findall(r'(?:src|href|action)="((?:https?:)?//[^"]+)"', html)
        assert external == [], (response.request["PATH_INFO"], external)
        assert "default-src 'self'" in response["Content-Security-Policy"]


# --- Data Security ------------------------------------------------------------


@pytest.mark.django_db
def test_https_encryption_for_all_connections(client, settings):
    """HTTPS encryption for all connections"""
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/privacy/")
    assert response.status_code == 301 and response["Location"].startswith("https://")


@pytest.mark.django_db
def test_bcrypt_password_hashing(client, alice):
    """Bcrypt password hashing"""
    client.post("/login/", {"username": "alice@example.com", "password": PASSWORD})
    with connection.cursor() as cursor:
        cursor.execute("SELECT password FROM accounts_user WHERE email = %s", ["alice@example.com"])
        assert cursor.fetchone()[0].startswith("bcrypt_sha256$")


@pytest.mark.django_db
def test_jwt_based_authentication_with_short_lived_tokens(client, alice):
    """JWT-based authentication with short-lived tokens"""
    claims = _claims(_token(client)["access"])
    assert claims["exp"] - claims["iat"] <= 15 * 60


@pytest.mark.django_db
def test_rate_limiting_to_prevent_unauthorized_access(client, alice):
    """Rate limiting to prevent unauthorized access"""
    statuses = [
        client.post("/login/", {"username": "alice@example.com", "password": "wrong"}).status_code for _ in range(25)
    ]
    assert 429 in statuses
    limited = client.post("/login/", {"username": "alice@example.com", "password": PASSWORD})
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0


# --- Data Retention -------------------------------------------------------------


@pytest.mark.django_db
def test_call_and_sms_logs_are_retained_for_90_days(alice, client):
    """Call and SMS logs are retained for 90 days for service delivery."""
    from privacy.retention import purge_expired
    from telephony.models import CallLog, SmsLog

    old = timezone.now() - timedelta(days=91)
    recent = timezone.now() - timedelta(days=89)
    CallLog.objects.create(
        user=alice, kind="phone", direction="in", external_id="CAold", peer_number="+15550001111", started_at=old
    )
    CallLog.objects.create(
        user=alice, kind="phone", direction="in", external_id="CAnew", peer_number="+15550001111", started_at=recent
    )
    SmsLog.objects.create(
        user=alice,
        direction="in",
        message_sid="SMold",
        peer_number="+15550002222",
        our_number="+15557654321",
        status="forwarded",
        created_at=old,
    )
    SmsLog.objects.create(
        user=alice,
        direction="in",
        message_sid="SMnew",
        peer_number="+15550002222",
        our_number="+15557654321",
        status="forwarded",
        created_at=recent,
    )
    assert "retained for 90 days" in client.get("/privacy/").content.decode()
    purge_expired()
    assert list(CallLog.objects.values_list("external_id", flat=True)) == ["CAnew"]
    assert list(SmsLog.objects.values_list("message_sid", flat=True)) == ["SMnew"]


@pytest.mark.django_db
def test_you_can_request_deletion_of_your_account_and_all_associated_data_at_any_time(alice_client, alice):
    """You can request deletion of your account and all associated data at any time."""
    from accounts.models import User

    alice_client.post("/privacy/center/delete/", {"password": PASSWORD})
    for _ in range(5):
        if not run_pending():
            break
    assert not User.objects.filter(pk=alice.pk).exists()


# --- Your Rights --------------------------------------------------------------------


@pytest.mark.django_db
def test_access_the_personal_data_we_hold_about_you(alice_client):
    """Access the personal data we hold about you"""
    page = alice_client.get("/privacy/center/").content.decode()
    assert "alice@example.com" in page and "Who at NumFree looked at your data" in page


@pytest.mark.django_db
def test_correct_inaccurate_data(alice_client, alice):
    """Correct inaccurate data"""
    alice_client.post("/privacy/center/name/", {"name": "Alice L."})
    alice.refresh_from_db()
    assert alice.name == "Alice L."


@pytest.mark.django_db
def test_request_deletion_of_your_data(alice_client):
    """Request deletion of your data"""
    assert 'name="password"' in alice_client.get("/privacy/center/delete/").content.decode()


@pytest.mark.django_db
def test_export_your_data_in_a_portable_format(alice_client):
    """Export your data in a portable format"""
    bundle = _export_zip(alice_client)
    manifest = json.loads(bundle.read("manifest.json"))
    assert manifest["format"] == "numfree-export"
    for entry in manifest["files"]:
        if entry["path"].endswith(".json"):
            json.loads(bundle.read(entry["path"]))


@pytest.mark.django_db
def test_object_to_data_processing_for_any_legitimate_reason(alice_client):
    """Object to data processing for any legitimate reason"""
    alice_client.post("/privacy/center/object/", {"analytics": "off"})
    alice_client.get("/privacy/")
    assert not PageView.objects.exists()
    alice_client.post("/privacy/center/request/", {"kind": "objection", "details": "Stop emailing me updates"})
    from privacy.models import DataSubjectRequest

    assert DataSubjectRequest.objects.filter(kind="objection").exists()


# --- Do Not Track --------------------------------------------------------------------


@pytest.mark.django_db
def test_numfree_does_not_use_third_party_tracking_services(client):
    """NumFree does not use third-party tracking services."""
    response = client.get("/")
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "http" not in csp.replace("https://numfree.com", "")


@pytest.mark.django_db
def test_we_respect_do_not_track_browser_signals(client):
    """We respect Do Not Track browser signals."""
    client.get("/privacy/", HTTP_DNT="1")
    client.get("/privacy/", HTTP_SEC_GPC="1")
    assert not PageView.objects.exists()
    client.get("/privacy/")
    assert PageView.objects.count() == 1


# --- Changes to This Policy -------------------------------------------------------------


@pytest.mark.django_db
def test_changes_will_be_posted_on_this_page_with_an_updated_date(client):
    """Changes will be posted on this page with an updated date."""
    from privacy.models import PolicyVersion

    PolicyVersion.objects.create(version="2", effective_date=timezone.localdate())
    page = client.get("/privacy/").content.decode()
    assert (
        f"Version 2, effective {timezone.localdate():%B} {timezone.localdate().day}, {timezone.localdate().year}"
        in page
    )
