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
from urllib.parse import urlsplit

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone

from numfree.outbox.testing import run_pending
from privacy.models import ExportArchive, PageView, PolicyVersion
from tests.billing.conftest import FakeStripeCustomer
from tests.conftest import PASSWORD
from tests.signaling.conftest import (  # noqa: F401  (the socket tests' autouse setup, as in tests/signaling)
    _close_connections_of_the_sync_thread,
    _fast_signaling,
    befriend,
    connect,
    token_for,
)

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


def _ice_urls(ice: dict) -> list[str]:
    return [u for s in ice["iceServers"] for u in ([s["urls"]] if isinstance(s["urls"], str) else s["urls"])]


def _subscribe_and_buy_a_number(client: Client, user) -> str:  # type: ignore[no-untyped-def]
    """Through the pages, as the user would: Stripe Checkout (the fake's hosted page), then a number."""
    FakeStripeCustomer(client, user).subscribe()
    results = client.get("/dashboard/number/?country=US&area_code=415").context["results"]
    client.post("/dashboard/number/buy/", {"e164": results[0].e164, "country": "US"})
    return results[0].e164


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
    assert not [u for u in _ice_urls(ice) if u.startswith(("turn:", "turns:"))]


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


def test_microphone_audio_only_during_active_calls_streamed_peer_to_peer_via_webrtc():
    """Microphone audio (only during active calls, streamed peer-to-peer via WebRTC)"""
    extension = ROOT / "extension"
    sources = {
        path.relative_to(extension).as_posix(): path.read_text()
        for path in extension.rglob("*.js")
        if "tests" not in path.relative_to(extension).parts
    }
    assert sorted(name for name, text in sources.items() if "mediaDevices" in text) == [
        "call/call.js",
        "welcome/welcome.js",
    ]
    # The first-run page asks for the permission only: it stops every track at once and sends nothing.
    welcome = sources["welcome/welcome.js"]
    assert re.findall(r"getUserMedia\(([^)]*)\);\n\s*(.*)\n", welcome) == [
        ("{ audio: true, video: false }", "for (const track of stream.getTracks()) track.stop();")
    ]
    assert not re.search(r"RTCPeerConnection|addTrack|fetch\(|WebSocket", welcome)
    call = sources["call/call.js"]
    # Only the call window (opened for one call) asks, for audio and never video...
    assert re.findall(r"getUserMedia\(([^)]*)\)", call) == ["{ audio: true, video: false }"]
    assert '<script type="module" src="call.js"></script>' in (extension / "call" / "call.html").read_text()
    # ...hands the audio only to the RTCPeerConnection, records nothing...
    assert "pc.addTrack(track, localStream)" in call
    assert not [
        name for name, text in sources.items() if re.search(r"MediaRecorder|captureStream|MediaStreamSource", text)
    ]
    # Web Audio only makes the ringtone: generated tones out to the speakers, never a stream in.
    assert [name for name, text in sources.items() if "AudioContext" in text] == ["lib/ringtone.js"]
    assert not re.search(r"MediaStream|getUserMedia|srcObject", sources["lib/ringtone.js"])
    # ...and stops the microphone when the call ends, however it ends.
    assert 'if (state.phase === "ended") cleanup();' in call
    cleanup = re.search(r"\nfunction cleanup\(\) \{\n(.*?)\n\}", call, re.S).group(1)
    assert "for (const track of localStream?.getTracks() || []) track.stop();" in cleanup
    manifest = json.loads((extension / "manifest.json").read_text())
    assert not {"tabCapture", "offscreen", "audioCapture"} & set(manifest["permissions"])


@pytest.mark.django_db(transaction=True)
async def test_online_presence_of_other_numfree_users_email_addresses_only(alice, bob):
    """Online presence of other NumFree users (email addresses only)"""
    bob.name = "Robert Builder"
    await sync_to_async(bob.save)()
    await sync_to_async(befriend)(alice, bob)
    b = await connect(bob, "bob-dev01")
    a = await connect(alice, "alice-dev1")
    frames = [a.snapshot, await b.recv()]
    await a.close()
    frames.append(await b.recv())
    await b.close()
    assert frames[0] == {"type": "presence.snapshot", "contacts": [{"email": "bob@example.com", "online": True}]}
    assert frames[1:] == [
        {"type": "presence.update", "email": "alice@example.com", "online": True},
        {"type": "presence.update", "email": "alice@example.com", "online": False},
    ]
    assert "Robert" not in json.dumps(frames) and "Alice" not in json.dumps(frames)


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


@pytest.mark.django_db
def test_we_do_not_sell_rent_or_share_your_personal_data_with_third_parties_for_marketing_purposes(
    alice, client, outbound, drain, settings
):
    """We do not sell, rent, or share your personal data with third parties for marketing purposes."""
    from tests.telephony.conftest import inbound_sms_params, signed_post

    settings.PUBLIC_URL = "http://127.0.0.1:9"  # the Stripe fake's own event delivery finds nobody there
    number = _subscribe_and_buy_a_number(client, alice)
    signed_post(Client(), "/webhooks/twilio/sms/", inbound_sms_params(number, body="see you at noon"))
    drain()
    paths = [*PAGES, *SIGNED_IN_PAGES, "/dashboard/number/", "/dashboard/billing/"]
    pages = [client.get(path, follow=True) for path in paths]
    # Personal data went to the two processors that run the service, and to the user's own inbox; nowhere else.
    assert {urlsplit(url).hostname for _verb, url, _fields in outbound.stripe} == {"api.stripe.com"}
    assert {urlsplit(url).hostname for _verb, url, _fields in outbound.twilio} == {"api.twilio.com"}
    assert outbound.elsewhere == []
    assert {address for message in mail.outbox for address in message.recipients()} == {"alice@example.com"}
    for response in pages:  # and no page hands the browser to anyone else
        assert response.status_code == 200
        assert re.findall(r'(?:src|href|action)="((?:https?:)?//[^"]+)"', response.content.decode()) == []


# --- Third-Party Services ----------------------------------------------------------


@pytest.mark.django_db
def test_we_share_only_the_minimum_data_required_to_provide_the_service(alice, client, outbound, settings):
    """Each operates under their own privacy policies. We share only the minimum data required to provide the service."""
    from telephony.models import Forwarding

    settings.PUBLIC_URL = "http://127.0.0.1:9"
    alice.name = "Alice Liddell"
    alice.save()
    Forwarding.objects.create(user=alice, phone="+14155550199", phone_verified=True)
    number = _subscribe_and_buy_a_number(client, alice)
    # Stripe: the email (for receipts) and our id for the customer; plan, customer and return links for Checkout.
    assert outbound.sent("stripe", "POST", "/v1/customers") == [
        {"email": "alice@example.com", "metadata[numfree_user]": str(alice.pk)}
    ]
    [checkout] = outbound.sent("stripe", "POST", "/v1/checkout/sessions")
    assert set(checkout) <= {
        "mode",
        "customer",
        "client_reference_id",
        "line_items[0][price]",
        "line_items[0][quantity]",
        "success_url",
        "cancel_url",
    }
    # Twilio: the number to buy and where its calls and texts should be sent.
    [purchase] = outbound.sent("twilio", "POST", "/IncomingPhoneNumbers.json")
    assert purchase.pop("PhoneNumber") == number
    public = settings.PUBLIC_URL.rstrip("/")
    assert purchase and all(v == "POST" or v.startswith(f"{public}/webhooks/twilio/") for v in purchase.values())
    everything = json.dumps([outbound.stripe, outbound.twilio])
    assert "Liddell" not in everything and "+14155550199" not in everything and PASSWORD not in everything
    assert "alice@example.com" not in json.dumps(outbound.twilio)


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


SDP_OFFER = (
    "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:EsAw\r\na=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\n"
    "a=fingerprint:sha-256 D2:FA:0E:C3:22:59:5E:14:95:69:92:3D:13:B4:84:24:2C:C2:A2:C0:3E:FD:34:8E:5E:EA:6F:AF:52:CE:E6:0F\r\n"
    "a=setup:actpass\r\na=mid:0\r\na=sendrecv\r\na=rtpmap:111 opus/48000/2\r\n"
)


@pytest.mark.django_db(transaction=True)
async def test_webrtc_end_to_end_encryption_for_voice_calls(alice, bob):
    """WebRTC end-to-end encryption for voice calls"""
    # No relay is offered: the DTLS-SRTP media can only go browser to browser...
    headers = {"HTTP_AUTHORIZATION": f"Bearer {await token_for(alice)}"}
    ice = (await sync_to_async(Client().get)("/api/signaling/ice-servers/", **headers)).json()
    assert ice["iceTransportPolicy"] == "all" and not [u for u in _ice_urls(ice) if u.startswith("turn")]
    # ...and the descriptions cross our server untouched, so each side checks the other's DTLS fingerprint.
    await sync_to_async(befriend)(alice, bob)
    a, b = await connect(alice, "alice-dev1"), await connect(bob, "bob-dev01")
    await a.send({"type": "call.invite", "call_id": "call-e2e1", "to": "bob@example.com", "sdp": SDP_OFFER})
    assert (await b.recv_type("call.invite"))["sdp"] == SDP_OFFER
    assert (await a.recv_type("call.status"))["status"] == "ringing"
    answer = SDP_OFFER.replace("D2:FA", "0B:7C").replace("a=setup:actpass", "a=setup:active")
    await b.send({"type": "call.answer", "call_id": "call-e2e1", "sdp": answer})
    assert (await a.recv_type("call.answer"))["sdp"] == answer
    await b.send({"type": "call.hangup", "call_id": "call-e2e1", "reason": "user_hangup"})
    await a.close()
    await b.close()


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


def _policy_changed_after_alice_joined(alice) -> str:  # type: ignore[no-untyped-def]
    alice.date_joined = timezone.now() - timedelta(days=30)
    alice.save()
    today = timezone.localdate()
    PolicyVersion.objects.create(version="2", effective_date=today, summary_of_changes="We now name our mail provider.")
    return f"{today:%B} {today.day}, {today.year}"


@pytest.mark.django_db
def test_changes_will_be_posted_on_this_page_with_an_updated_date(alice, alice_client, client):
    """Changes will be posted on this page with an updated date."""
    date = _policy_changed_after_alice_joined(alice)
    assert f"Version 2, effective {date}" in client.get("/privacy/").content.decode()
    notice = alice_client.get("/dashboard/").content.decode()
    assert f'We updated our <a href="/privacy/">privacy policy</a> on {date}.' in notice


@pytest.mark.django_db
def test_continued_use_of_the_service_after_changes_constitutes_acceptance_of_the_updated_policy(alice, alice_client):
    """Continued use of the service after changes constitutes acceptance of the updated policy."""
    date = _policy_changed_after_alice_joined(alice)
    # Nothing stops the service to ask for consent again: pages and the API keep working, with a dated notice.
    page = alice_client.get("/dashboard/")
    assert page.status_code == 200 and f"on {date}." in page.content.decode()
    calls = Client().get("/api/calls/", HTTP_AUTHORIZATION=f"Bearer {_token(Client())['access']}")
    assert calls.status_code == 200
    alice_client.post("/privacy/notice/dismiss/", {"next": "/dashboard/"})
    assert "We updated our" not in alice_client.get("/dashboard/").content.decode()
