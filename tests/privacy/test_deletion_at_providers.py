"""Deleting an account always finishes here in one worker pass, whatever Twilio and Stripe answer;
what they hold is deleted by jobs that keep trying, which the request shows and the user is told about."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import timezone

from billing.fake_stripe import store as stripe_fake
from billing.models import BillingAccount
from numfree.outbox import enqueue
from numfree.outbox.models import Job
from numfree.outbox.testing import run_pending
from privacy import subject_requests
from privacy.erasure import reference_of
from privacy.models import DataSubjectRequest
from telephony import simulation, twilio_api, twilio_fake, verification
from telephony.models import CallLog, PhoneNumber, SmsLog, Voicemail
from telephony.sending import send_text
from tests.billing.conftest import FakeStripeCustomer
from tests.conftest import PASSWORD
from tests.telephony.conftest import give_plan

pytestmark = pytest.mark.django_db
User = get_user_model()
PHONE = "+14155550123"  # the forwarding phone the code is texted to
FRIEND = "+14155550177"


@pytest.fixture(autouse=True)
def _nothing_listens_at_public_url(settings):  # type: ignore[no-untyped-def]
    settings.PUBLIC_URL = "http://127.0.0.1:9"  # the fake Stripe's event deliveries reach no real server


@pytest.fixture(autouse=True)
def _providers_recover_after_the_test() -> Iterator[None]:
    yield
    twilio_fake.recover()
    stripe_fake.recover()


def _buy_number(user) -> PhoneNumber:  # type: ignore[no-untyped-def]
    bought = twilio_api.buy_number(twilio_api.search_numbers("US", "415")[0].e164)
    return PhoneNumber.objects.create(user=user, e164=bought.e164, twilio_sid=bought.sid, country="US")


def _an_account_that_texted_got_voicemail_and_paid(client, user) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """As the product writes it: paid through the fake checkout, got a number, verified a phone
    (the code is a text), sent a text, received a text and a voicemail. Returns the provider ids."""
    customer = FakeStripeCustomer(client, user)
    customer.subscribe()
    number = _buy_number(user)
    # Time stands still here, so Twilio has not carried the sent texts yet (it does a second
    # later, then reports them delivered and NumFree deletes them there): they are still at Twilio.
    with time_machine.travel(timezone.now(), tick=False):
        verification.request_phone(user, PHONE)
        send_text(user, FRIEND, "see you at noon")
        assert simulation.inbound_sms(number.e164, FRIEND, "on my way") == 200
        simulation.inbound_call(number.e164, FRIEND, answered=False)
        run_pending()  # forwards the text, stores the voicemail audio
    assert Voicemail.objects.get(user=user).audio
    return {"number": number.twilio_sid, "customer": customer.account().stripe_customer_id}


def _request_deletion(client) -> DataSubjectRequest:  # type: ignore[no-untyped-def]
    assert client.post("/privacy/center/delete/", {"password": PASSWORD}).status_code == 200
    return DataSubjectRequest.objects.get(kind="deletion")


def _nothing_left_here(user_id: int, settings) -> None:  # type: ignore[no-untyped-def]
    assert not User.objects.filter(pk=user_id).exists()
    for model in (PhoneNumber, SmsLog, CallLog, Voicemail, BillingAccount):
        assert not model.objects.filter(user_id=user_id).exists(), model.__name__
    private = settings.PRIVATE_FILES_DIR
    assert not [path for path in private.rglob("*") if path.is_file()] if private.exists() else True


def _run_until_the_providers_are_done(request: DataSubjectRequest, rounds: int = 12) -> None:
    """Run due jobs, jumping 6 hours (the longest wait between tries) between passes."""
    with time_machine.travel(timezone.now(), tick=True) as traveller:
        for _ in range(rounds):
            run_pending()
            if not Job.objects.referring_to(reference_of(request.pk)).exists():
                return
            traveller.shift(timedelta(hours=6, minutes=1))


def test_an_account_that_texted_its_phone_code_is_erased_in_one_worker_pass(alice_client, alice, settings):
    """The issue: the code text was still "queued" at Twilio, so erasure failed on every retry with 20009."""
    give_plan(alice)
    _buy_number(alice)
    verification.request_phone(alice, PHONE)
    assert SmsLog.objects.filter(user=alice, direction="out").exists()
    alice_client.post("/privacy/center/delete/", {"password": PASSWORD})
    run_pending()
    _nothing_left_here(alice.pk, settings)
    assert DataSubjectRequest.objects.get(kind="deletion").status == "fulfilled"


OUTAGES = {
    "every request answers 503": lambda: twilio_fake.fail_requests(status=503),
    "messages answer 20009, the rest 503": lambda: (
        twilio_fake.fail_requests(status=409, code=20009, method="DELETE", path="/Messages/"),
        twilio_fake.fail_requests(status=503),
    ),
}


@pytest.mark.parametrize("twilio_outage", OUTAGES.values(), ids=OUTAGES.keys())
def test_local_erasure_finishes_in_one_pass_while_the_providers_fail_then_they_catch_up(
    alice_client, alice, settings, twilio_outage
):
    at_providers = _an_account_that_texted_got_voicemail_and_paid(alice_client, alice)
    request = _request_deletion(alice_client)
    twilio_outage()
    stripe_fake.fail_requests(status=503)

    run_pending()  # one worker pass

    _nothing_left_here(alice.pk, settings)
    request.refresh_from_db()
    assert request.status == "fulfilled" and request.requester_email == "" and request.flagged_at is None
    pending = {at.provider: at for at in subject_requests.at_providers(request)}
    assert set(pending) == {"Twilio", "Stripe"}
    # The number, two texts we sent, one received, one recording; the customer.
    assert (pending["Twilio"].waiting, pending["Stripe"].waiting) == (5, 1)
    assert pending["Twilio"].last_error.startswith(("TwilioUnreachable", "NotYetDeletable"))
    assert twilio_fake.exists("number", at_providers["number"]) and stripe_fake.get(at_providers["customer"])

    twilio_fake.recover()
    stripe_fake.recover()
    _run_until_the_providers_are_done(request)

    assert subject_requests.at_providers(request) == []
    assert (twilio_fake.count("number"), twilio_fake.count("message"), twilio_fake.count("recording")) == (0, 0, 0)
    assert stripe_fake.get(at_providers["customer"]) is None
    assert [sub["status"] for sub in stripe_fake.all_of("subscription")] == ["canceled"]
    request.refresh_from_db()
    assert request.flagged_at is None


def test_the_user_is_told_once_local_erasure_is_done_that_provider_deletions_continue(alice_client, alice):
    _an_account_that_texted_got_voicemail_and_paid(alice_client, alice)
    _request_deletion(alice_client)
    twilio_fake.fail_requests(status=503)
    stripe_fake.fail_requests(status=503)
    mail.outbox.clear()
    run_pending()
    [notice] = [message for message in mail.outbox if message.subject == "Your NumFree account is deleted"]
    assert notice.to == ["alice@example.com"]
    assert notice.subject == "Your NumFree account is deleted"
    assert "Twilio and Stripe" in notice.body and "keep asking" in notice.body
    assert DataSubjectRequest.objects.get(kind="deletion").requester_email == ""


def test_someone_with_nothing_at_the_providers_is_told_that_nothing_is_left(alice_client, alice):
    _request_deletion(alice_client)
    run_pending()
    [notice] = [message for message in mail.outbox if message.subject == "Your NumFree account is deleted"]
    assert notice.to == ["alice@example.com"]
    assert "hold nothing more for your account" in notice.body


def test_the_provider_jobs_hold_only_ids(alice_client, alice, settings):
    _an_account_that_texted_got_voicemail_and_paid(alice_client, alice)
    request = _request_deletion(alice_client)
    twilio_fake.fail_requests(status=503)
    stripe_fake.fail_requests(status=503)
    run_pending()
    from numfree.outbox import crypto

    jobs = list(Job.objects.referring_to(reference_of(request.pk)))
    assert {job.kind for job in jobs} == {
        "telephony.release_number",
        "telephony.delete_message",
        "telephony.delete_recording",
        "billing.delete_customer",
    }
    for job in jobs:
        payload = crypto.unseal(job.kind, job.payload)
        assert set(payload) in ({"sid", "request_id"}, {"customer", "request_id"})
        assert payload["request_id"] == request.pk
        assert payload.get("sid", "")[:2] in {"PN", "SM", "MM", "RE", ""}
        assert payload.get("customer", "cus_").startswith("cus_")


def test_running_every_provider_deletion_twice_is_harmless(alice_client, alice):
    at_providers = _an_account_that_texted_got_voicemail_and_paid(alice_client, alice)
    recording = Voicemail.objects.get(user=alice).recording_sid
    texts = list(SmsLog.objects.filter(user=alice).values_list("message_sid", flat=True))
    for sid in texts:
        twilio_fake.finish_message(sid)
    jobs = [
        ("telephony.release_number", {"sid": at_providers["number"]}),
        ("telephony.delete_recording", {"sid": recording}),
        ("billing.delete_customer", {"customer": at_providers["customer"]}),
        *[("telephony.delete_message", {"sid": sid}) for sid in texts],
    ]
    ours = [enqueue(kind, payload) for kind, payload in jobs + jobs]
    run_pending()
    assert not Job.objects.filter(pk__in=ours).exists()  # each succeeded (none failed, none waits)
    assert not twilio_fake.exists("number", at_providers["number"]) and not twilio_fake.exists("recording", recording)
    assert not any(twilio_fake.exists("message", sid) for sid in texts)
    assert stripe_fake.get(at_providers["customer"]) is None


def test_support_sees_per_request_what_is_still_pending_at_which_provider(alice_client, alice):
    from django.contrib import admin

    _an_account_that_texted_got_voicemail_and_paid(alice_client, alice)
    request = _request_deletion(alice_client)
    twilio_fake.fail_requests(status=503)
    stripe_fake.fail_requests(status=503)
    run_pending()
    request.refresh_from_db()
    model_admin = admin.site._registry[DataSubjectRequest]
    assert model_admin.providers(request) == "Twilio: 5 pending; Stripe: 1 pending"
    detail = str(model_admin.at_providers(request))
    assert "Twilio: 5 pending" in detail and "TwilioUnreachable" in detail and "StripeUnavailable" in detail


def test_an_erasure_the_worker_gives_up_flags_its_request(alice_client, alice):
    from numfree.outbox import registry

    request = _request_deletion(alice_client)
    registry.get("privacy.erase_account").on_expire({"user_id": alice.pk, "request_id": request.pk})
    request.refresh_from_db()
    assert request.flagged_at is not None and "privacy.erase_account" in request.flag_reason
