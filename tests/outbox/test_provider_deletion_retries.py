"""A deletion at a provider keeps trying for 30 days, never more than 6 hours apart, then flags its request to support."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from numfree.outbox import enqueue
from numfree.outbox.models import Job
from numfree.outbox.testing import run_pending
from privacy import subject_requests
from privacy.erasure import reference_of
from privacy.models import DataSubjectRequest
from telephony import twilio_api, twilio_fake
from tests.conftest import make_user

pytestmark = pytest.mark.django_db
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def deletion_request() -> DataSubjectRequest:
    return DataSubjectRequest.objects.create(kind="deletion", source="privacy_center", status="fulfilled")


def _queue_deletion(kind: str, sid: str, request: DataSubjectRequest) -> int:
    job_id = enqueue(kind, {"sid": sid, "request_id": request.pk}, reference=reference_of(request.pk, "twilio"))
    assert job_id is not None
    return job_id


def _claims_until_given_up(job_id: int, traveller: time_machine.Coordinates, limit: int = 2000) -> list:  # type: ignore[type-arg]
    """Jump to each due time and let the worker take the job; the moments it did, until it is given up."""
    claims = []
    for _ in range(limit):
        job = Job.objects.get(pk=job_id)
        if job.failed_at is not None:
            return claims
        traveller.move_to(job.run_at)
        claims.append(timezone.now())
        run_pending()
    raise AssertionError("the job was never given up")


def test_a_text_twilio_will_not_delete_is_retried_for_30_days_at_most_6_hours_apart_then_flagged(deletion_request):
    staff = make_user("support@numfree.com")
    staff.is_staff = True
    staff.save()
    with time_machine.travel(START, tick=False) as traveller:
        sid, _urls = twilio_fake.receive_message(twilio_api.account_sid(), "+14155550100", "+14155551000")
        twilio_fake.fail_requests(status=409, code=20009, method="DELETE", path="/Messages/")  # for days
        job_id = _queue_deletion("telephony.delete_message", sid, deletion_request)

        claims = _claims_until_given_up(job_id, traveller)

        gaps = [later - earlier for earlier, later in pairwise(claims)]
        assert gaps[0] <= timedelta(seconds=10)  # the first retry comes soon: Twilio is usually done in moments
        assert max(gaps) <= timedelta(hours=6)
        assert claims[-2] >= START + timedelta(days=29, hours=18)  # still trying on the last day
        assert claims[-1] == START + timedelta(days=30)  # given up at its deadline, not later
        job = Job.objects.get(pk=job_id)
        assert job.payload is None and job.last_error.startswith("Expired")
        assert twilio_fake.exists("message", sid)

        deletion_request.refresh_from_db()
        assert deletion_request.flagged_at == START + timedelta(days=30)
        assert "telephony.delete_message" in deletion_request.flag_reason
        [at_twilio] = subject_requests.at_providers(deletion_request)
        assert (at_twilio.provider, at_twilio.waiting, at_twilio.given_up) == ("Twilio", 0, 1)

        assert subject_requests.send_digest() == 1
        run_pending()
    [digest] = mail.outbox
    assert "1 flagged" in digest.subject
    assert f"#{deletion_request.pk} Deletion, flagged" in digest.body


def test_a_deletion_that_succeeds_meanwhile_leaves_nothing_pending_and_no_flag(deletion_request):
    with time_machine.travel(START, tick=False) as traveller:
        sid, _urls = twilio_fake.receive_message(twilio_api.account_sid(), "+14155550100", "+14155551000")
        twilio_fake.fail_requests(status=503)
        job_id = _queue_deletion("telephony.delete_message", sid, deletion_request)
        for _ in range(20):  # about two days of outage
            traveller.move_to(Job.objects.get(pk=job_id).run_at)
            run_pending()
        assert subject_requests.at_providers(deletion_request)[0].waiting == 1
        twilio_fake.recover()
        while Job.objects.filter(pk=job_id).exists():
            traveller.move_to(Job.objects.get(pk=job_id).run_at)
            run_pending()
    assert not twilio_fake.exists("message", sid)
    assert subject_requests.at_providers(deletion_request) == []
    deletion_request.refresh_from_db()
    assert deletion_request.flagged_at is None


def test_a_provider_refusing_for_good_flags_the_request_at_once(deletion_request):
    sid, _url = twilio_fake.record_voicemail(twilio_api.account_sid(), "CA" + "3" * 32, 3)
    twilio_fake.fail_requests(status=403, code=20003, method="DELETE", path="/Recordings/")
    job_id = _queue_deletion("telephony.delete_recording", sid, deletion_request)
    run_pending()
    assert Job.objects.get(pk=job_id).failed_at is not None
    deletion_request.refresh_from_db()
    assert deletion_request.flagged_at is not None
    assert "telephony.delete_recording" in deletion_request.flag_reason
