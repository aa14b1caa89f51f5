"""The simulation panel: a signed text, call and voicemail through the real webhooks (DEBUG only)."""

from __future__ import annotations

import pytest
from django.core import mail

from telephony.models import CallLog, SmsLog, Voicemail
from tests.telephony.conftest import run_jobs_until_idle

pytestmark = pytest.mark.django_db


def test_without_debug_the_panel_does_not_exist(alice_client, alice_number, settings) -> None:
    settings.DEBUG = False
    assert alice_client.get("/dashboard/simulate/").status_code == 404
    assert alice_client.post("/dashboard/simulate/", {"event": "sms", "sender": "+14155550100"}).status_code == 404
    assert not SmsLog.objects.exists()


def test_a_simulated_text_arrives_by_email(alice_client, alice, alice_number, settings) -> None:
    settings.DEBUG = True
    response = alice_client.post(
        "/dashboard/simulate/", {"event": "sms", "sender": "+14155550100", "body": "hi from the panel"}
    )
    assert response.status_code == 302
    run_jobs_until_idle()
    assert SmsLog.objects.get().forwarded_at is not None
    assert "hi from the panel" in mail.outbox[0].body


def test_a_simulated_unanswered_call_leaves_a_voicemail(alice_client, alice, alice_number, settings) -> None:
    settings.DEBUG = True
    alice_client.post("/dashboard/simulate/", {"event": "call-voicemail", "sender": "+14155550100"})
    run_jobs_until_idle()
    call = CallLog.objects.get()
    assert call.missed and call.status == "completed"
    voicemail = Voicemail.objects.get()
    assert voicemail.audio
    assert alice_client.get(f"/dashboard/voicemail/{voicemail.pk}/audio/").status_code == 200


def test_the_panel_needs_a_login(client, settings) -> None:
    settings.DEBUG = True
    assert client.get("/dashboard/simulate/").status_code == 302
