"""NumFree behind its TLS-terminating proxy (deploy/proxy, nginx) in production mode, on one machine:
everything a user, Twilio, Stripe and the extension do goes over https through the proxy to one of two
web processes (issue #13, item 3). PostgreSQL and Redis: runs in .ci/run's second pass.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.db import connection
from websockets.sync.client import connect

from accounts.models import User
from billing.fake_stripe.delivery import signature_header
from billing.models import StripeEvent
from telephony import twilio_api
from telephony.models import SmsLog
from tests.conftest import IN_CI, PASSWORD, make_user
from tests.internet.https_site import (
    EXTENSION_ID,
    HOST,
    Site,
    free_port,
    make_certificates,
    production_env,
    wait_until_healthy,
)
from tests.telephony.conftest import give_plan, inbound_sms_params

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

ALICE = "127.0.0.2"
BOB = "127.0.0.3"
CAROL = "127.0.0.4"  # never rate limited here
WEBHOOK_STREAM_MAX = 3000  # requests at most, whatever happens
WEBHOOK_STREAM_SECONDS = 60  # and never longer than this


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory,
    django_db_setup: None,
    django_db_blocker: pytest.FixtureRequest,
) -> Iterator[Site]:
    if not shutil.which("nginx"):
        reason = "needs Debian's nginx (apt-get install nginx-light; .ci/install-proxy)"
        if IN_CI:
            pytest.fail(f"CI=true and the HTTPS proxy test cannot run: {reason}")
        pytest.skip(reason)
    directory = tmp_path_factory.mktemp("https")
    ca, _chain, _key = make_certificates(directory)
    db = connection.settings_dict
    https_port = free_port()
    env = production_env(
        database_url=f"postgres://{db['USER']}@{db['HOST'] or HOST}:{db['PORT'] or 5432}/{db['NAME']}",
        redis_url=settings.REDIS_URL,
        secret_key=settings.SECRET_KEY,  # the fakes' Twilio token and Stripe secret derive from it
        public_url=f"https://{HOST}:{https_port}",
        fakes_db=directory / "fakes.sqlite3",
        ca=ca,
        static=directory / "static",
    )
    site = Site(directory, env, ca, https_port, free_port(), [free_port(), free_port()])
    try:
        collected = site.manage("collectstatic", "--noinput", "-v", "0")
        assert collected.returncode == 0, collected.stderr
        site.start_web(0)
        site.start_web(1)
        site.start_proxy()
        site.start_worker()
        yield site
    finally:
        site.stop()


@pytest.fixture(autouse=True)
def _same_fakes_as_the_site(site: Site, _fresh_fakes: None, settings) -> None:  # type: ignore[no-untyped-def]
    """The web processes' fake Twilio and Stripe are this test's."""
    from numfree import fake_store

    fake_store.close()
    settings.FAKES_DB = Path(site.env["NUMFREE_FAKES_DB"])


def _csrf_form(session: requests.Session, url: str) -> str:
    page = session.get(url, timeout=10)
    assert page.status_code == 200, page.text[:500]
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert match, "no CSRF field in the form"
    return match.group(1)


def _post_form(
    session: requests.Session,
    site: Site,
    path: str,
    data: dict[str, str],
    headers: dict[str, str] | None = None,
    action: str | None = None,
) -> requests.Response:
    """Submit the form of the page at `path` (to `action`, by default the page itself), as a browser would."""
    token = _csrf_form(session, site.url(path))
    return session.post(
        site.url(action or path),
        data={"csrfmiddlewaretoken": token, **data},
        headers={"Referer": site.url(path), **(headers or {})},
        allow_redirects=False,
        timeout=20,
    )


def _login(
    session: requests.Session, site: Site, email: str, password: str, headers: dict[str, str] | None = None
) -> requests.Response:
    return _post_form(session, site, "/login/", {"username": email, "password": password}, headers)


@pytest.mark.django_db(transaction=True)
def test_sign_up_and_log_in_over_https_set_only_secure_session_and_csrf_cookies(site: Site) -> None:
    browser = site.client(ALICE)
    signed_up = _post_form(
        browser,
        site,
        "/signup/",
        {"email": "dana@example.com", "name": "Dana", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert signed_up.status_code == 302, signed_up.text[:500]
    assert signed_up.headers["Location"].endswith("/signup/check-email/")
    User.objects.filter(email="dana@example.com").update(email_verified=True)  # the emailed link, followed

    browser = site.client(ALICE)
    logged_in = _login(browser, site, "dana@example.com", PASSWORD)
    assert logged_in.status_code == 302, logged_in.text[:500]
    assert logged_in.headers["Location"].endswith("/dashboard/")
    assert "max-age=31536000" in logged_in.headers["Strict-Transport-Security"]
    dashboard = browser.get(site.url("/dashboard/"), timeout=10, allow_redirects=False)
    assert dashboard.status_code == 200

    assert sorted(cookie.name for cookie in browser.cookies) == ["csrftoken", "sessionid"]
    assert all(cookie.secure for cookie in browser.cookies)
    set_cookie = logged_in.raw.headers.getlist("Set-Cookie")
    assert set_cookie and all("; Secure" in header and "HttpOnly" in header for header in set_cookie)


@pytest.mark.django_db(transaction=True)
def test_plain_http_is_redirected_to_the_public_https_url(site: Site) -> None:
    response = site.client(ALICE).get(
        f"http://{HOST}:{site.http_port}/login/?next=/x", allow_redirects=False, timeout=10
    )
    assert response.status_code == 301
    assert response.headers["Location"] == site.url("/login/?next=/x")


@pytest.mark.django_db(transaction=True)
def test_the_acme_client_s_challenge_is_served_over_plain_http(site: Site) -> None:
    challenges = site.directory / "acme" / ".well-known" / "acme-challenge"
    challenges.mkdir(parents=True, exist_ok=True)
    (challenges / "tok3n").write_text("tok3n.thumbprint")
    response = site.client(ALICE).get(
        f"http://{HOST}:{site.http_port}/.well-known/acme-challenge/tok3n", allow_redirects=False, timeout=10
    )
    assert (response.status_code, response.text) == (200, "tok3n.thumbprint")


@pytest.mark.django_db(transaction=True)
def test_a_twilio_webhook_signed_for_the_public_https_url_is_accepted_and_one_signed_for_http_refused(
    site: Site,
) -> None:
    number = _number_with_plan("erin@example.com")
    params = inbound_sms_params(number, body="through the proxy")
    twilio = site.client(HOST)
    path = "/webhooks/twilio/sms/"

    as_http = twilio_api.signature_for(f"http://{HOST}:{site.https_port}{path}", params)
    refused = twilio.post(site.url(path), data=params, headers={"X-Twilio-Signature": as_http}, timeout=10)
    assert refused.status_code == 403
    assert not SmsLog.objects.exists()

    as_https = twilio_api.signature_for(site.url(path), params)
    accepted = twilio.post(site.url(path), data=params, headers={"X-Twilio-Signature": as_https}, timeout=10)
    assert accepted.status_code == 200, accepted.text[:500]
    assert SmsLog.objects.get().message_sid == params["MessageSid"]


@pytest.mark.django_db(transaction=True)
def test_a_signed_stripe_event_is_applied_once_and_a_tampered_one_refused(site: Site) -> None:
    stripe = site.client(HOST)
    event = {
        "id": "evt_proxy_test_1",
        "object": "event",
        "type": "customer.updated",
        "created": int(time.time()),
        "livemode": False,
        "data": {"object": {"id": "cus_nobody", "object": "customer"}},
    }
    payload = json.dumps(event)
    header = signature_header(payload, settings.STRIPE_WEBHOOK_SECRET)

    def post(body: str) -> requests.Response:
        return stripe.post(
            site.url("/webhooks/stripe/"),
            data=body,
            headers={"Content-Type": "application/json", "Stripe-Signature": header},
            timeout=10,
        )

    tampered = post(payload.replace("cus_nobody", "cus_someone"))
    assert (tampered.status_code, tampered.json()["code"]) == (400, "stripe_signature_invalid")
    first, again = post(payload), post(payload)
    assert (first.status_code, first.json()) == (200, {"received": True, "duplicate": False})
    assert (again.status_code, again.json()) == (200, {"received": True, "duplicate": True})
    assert StripeEvent.objects.filter(id="evt_proxy_test_1").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_checkout_is_confirmed_by_stripe_events_the_worker_delivers_over_https_to_the_public_url(
    site: Site,
) -> None:
    from billing.models import BillingAccount

    user = make_user("ivy@example.com")
    browser = site.client(CAROL)
    assert _login(browser, site, "ivy@example.com", PASSWORD).status_code == 302
    checkout = _post_form(
        browser, site, "/dashboard/billing/", {"plan": "monthly"}, action="/dashboard/billing/checkout/"
    )
    assert checkout.status_code == 302, checkout.text[:500]
    hosted_page = checkout.headers["Location"]
    assert hosted_page.startswith(site.url("/_fake/stripe/checkout/"))
    paid = _post_form(browser, site, hosted_page.removeprefix(site.origin), {})
    assert paid.status_code == 302
    assert paid.headers["Location"].startswith(site.url("/dashboard/billing/?checkout="))

    # The fake's events reach /webhooks/stripe/ the way Stripe's would: from the worker, over https
    # through the proxy, trusting the certificate only through SSL_CERT_FILE.
    expected = {"customer.subscription.created", "invoice.paid", "checkout.session.completed"}
    deadline = time.monotonic() + 30
    while set(StripeEvent.objects.values_list("type", flat=True)) != expected:
        assert time.monotonic() < deadline, site.worker.log_text()[-3000:] if site.worker else ""
        time.sleep(0.2)
    assert BillingAccount.objects.get(user=user).status == "active"


@pytest.mark.django_db(transaction=True)
def test_the_extension_signs_in_over_wss_with_its_origin_and_a_foreign_origin_is_refused(site: Site) -> None:
    make_user("frank@example.com", name="Frank")
    tokens = site.client(ALICE).post(
        site.url("/api/auth/token/"), json={"email": "frank@example.com", "password": PASSWORD}, timeout=20
    )
    assert tokens.status_code == 200, tokens.text[:500]
    ws_url = f"wss://{HOST}:{site.https_port}/ws/signaling/"

    with connect(
        ws_url,
        origin=f"chrome-extension://{EXTENSION_ID}",  # type: ignore[arg-type]
        ssl=site.ssl_context(),
        source_address=(ALICE, 0),
        open_timeout=10,
    ) as socket:
        socket.send(json.dumps({"type": "auth", "token": tokens.json()["access"], "device_id": "proxy-test-1"}))
        reply = json.loads(socket.recv(timeout=10))
    assert reply["type"] == "auth.ok"
    assert reply["email"] == "frank@example.com"

    with pytest.raises(Exception, match="403"):
        connect(ws_url, origin="https://evil.example", ssl=site.ssl_context(), open_timeout=10)  # type: ignore[arg-type]


@pytest.mark.django_db(transaction=True)
def test_login_rate_limits_follow_the_real_client_address_whatever_x_forwarded_for_says(site: Site) -> None:
    alice, bob = site.client(ALICE), site.client(BOB)
    allowed = int(site.env["NUMFREE_RATE_LOGIN_IP"].split("/")[0])
    for attempt in range(allowed):
        # A forged header on every attempt: it must not spread them over made-up clients.
        answer = _login(
            alice,
            site,
            f"nobody{attempt}@example.com",
            "wrong password",
            headers={"X-Forwarded-For": f"10.0.0.{attempt}"},
        )
        assert answer.status_code == 200, answer.status_code  # the form again, with its error
    assert _login(alice, site, "over@example.com", "wrong password").status_code == 429
    for index, forged in enumerate((BOB, "10.9.9.9", f"{BOB}, {BOB}")):
        limited = _login(alice, site, f"forged{index}@example.com", "wrong", headers={"X-Forwarded-For": forged})
        assert limited.status_code == 429, forged
        assert int(limited.headers["Retry-After"]) >= 1

    assert _login(bob, site, "bob-tries@example.com", "wrong password").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_check_deploy_is_clean_in_the_proxy_configuration(site: Site) -> None:
    result = site.manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "NUMFREE_FAKE_PROVIDERS=1" in result.stderr  # loudly, at every start

    real_providers = {key: value for key, value in site.env.items() if key != "NUMFREE_FAKE_PROVIDERS"}
    without_fakes = site.manage("check", "--deploy", "--fail-level", "WARNING", env=real_providers)
    assert without_fakes.returncode == 0, without_fakes.stdout + without_fakes.stderr
    assert "NUMFREE_FAKE_PROVIDERS" not in without_fakes.stderr


def _number_with_plan(email: str) -> str:
    from telephony.models import PhoneNumber

    user = make_user(email)
    give_plan(user)
    bought = twilio_api.buy_number(twilio_api.search_numbers("US", "415")[0].e164)
    PhoneNumber.objects.create(user=user, e164=bought.e164, twilio_sid=bought.sid, country="US")
    return bought.e164


@pytest.mark.django_db(transaction=True)
def test_a_webhook_a_stuck_web_process_does_not_answer_is_applied_once_by_the_other(site: Site) -> None:
    number = _number_with_plan("jay@example.com")
    path = "/webhooks/twilio/sms/"
    twilio = site.client(HOST)
    stuck = site.web[0]
    timings, sids = [], []
    os.killpg(stuck.proc.pid, signal.SIGSTOP)  # accepts connections (the kernel does), answers nothing
    try:
        for _ in range(2):  # round robin: one of the two goes to the stuck process
            params = inbound_sms_params(number)
            signature = twilio_api.signature_for(site.url(path), params)
            started = time.monotonic()
            answer = twilio.post(site.url(path), data=params, headers={"X-Twilio-Signature": signature}, timeout=20)
            timings.append(time.monotonic() - started)
            sids.append(params["MessageSid"])
            assert answer.status_code == 200, answer.text[:300]
    finally:
        os.killpg(stuck.proc.pid, signal.SIGCONT)
    assert max(timings) >= 4.5, timings  # waited out the stuck one, then the other answered
    # The stuck process wakes up and handles its copy too: redelivery changes nothing.
    wait_until_healthy(f"http://{HOST}:{site.web_ports[0]}/healthz", stuck)
    assert sorted(SmsLog.objects.values_list("message_sid", flat=True)) == sorted(sids)
    # nginx logged the timeout, naming neither the client nor the URL.
    assert site.proxy is not None
    log = site.proxy.log_text()
    assert "upstream timed out" in log
    assert "127.0.0." not in log and "/webhooks/" not in log


@pytest.mark.django_db(transaction=True)
def test_no_twilio_webhook_is_lost_while_the_web_processes_restart_one_after_the_other(site: Site) -> None:
    number = _number_with_plan("gina@example.com")
    path = "/webhooks/twilio/sms/"
    sent: list[str] = []
    accepted: list[str] = []
    failures: list[str] = []
    done = threading.Event()

    def stream() -> None:
        twilio = site.client(HOST)
        deadline = time.monotonic() + WEBHOOK_STREAM_SECONDS
        while not done.is_set() and len(sent) < WEBHOOK_STREAM_MAX and time.monotonic() < deadline:
            params = inbound_sms_params(number, body=f"text {len(sent)}")
            signature = twilio_api.signature_for(site.url(path), params)
            sent.append(params["MessageSid"])
            try:
                answer = twilio.post(site.url(path), data=params, headers={"X-Twilio-Signature": signature}, timeout=20)
            except requests.RequestException as exc:
                failures.append(type(exc).__name__)
                continue
            if answer.status_code == 200:
                accepted.append(params["MessageSid"])
            else:
                failures.append(str(answer.status_code))

    sender = threading.Thread(target=stream)
    started = time.monotonic()
    sender.start()
    try:
        restarts, sent_while_restarting = [], []
        for index in (0, 1):
            time.sleep(0.5)  # webhooks in flight on both processes
            before = len(sent)
            down = site.web[index].terminate()
            site.start_web(index)
            restarts.append(round(down, 1))
            sent_while_restarting.append(len(sent) - before)
        time.sleep(0.5)
    finally:
        done.set()
        sender.join(WEBHOOK_STREAM_SECONDS + 25)
    elapsed = time.monotonic() - started

    lost = len(sent) - len(accepted)
    print(
        f"\nrolling restart: sent {len(sent)}, accepted {len(accepted)}, lost {lost} in {elapsed:.1f} s"
        f" (SIGTERM to exit: {restarts} s; sent during each restart: {sent_while_restarting})"
    )
    assert all(count > 0 for count in sent_while_restarting), sent_while_restarting
    assert not failures, failures[:10]
    assert lost == 0
    assert len(sent) >= 20, "too few webhooks to cover the restarts"
    stored = set(SmsLog.objects.filter(message_sid__in=sent).values_list("message_sid", flat=True))
    assert stored == set(sent)
