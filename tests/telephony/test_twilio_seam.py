"""The Twilio seam, exercised through the official SDK against the local fake."""

from __future__ import annotations

import pytest

from telephony import twilio_api, twilio_fake

pytestmark = pytest.mark.django_db


def test_search_finds_numbers_in_the_requested_area_code() -> None:
    found = twilio_api.search_numbers("US", "415")
    assert found
    assert all(number.e164.startswith("+1415") for number in found)


def test_search_in_an_area_code_that_does_not_exist_finds_nothing() -> None:
    assert twilio_api.search_numbers("US", "099") == []


def test_buying_points_every_webhook_at_our_public_url(settings) -> None:
    settings.PUBLIC_URL = "https://numfree.example"
    e164 = twilio_api.search_numbers("US", "415")[0].e164
    bought = twilio_api.buy_number(e164)
    assert bought.e164 == e164 and bought.sid.startswith("PN")
    stored = twilio_fake.resource("number", bought.sid)
    assert stored["sms_url"] == "https://numfree.example/webhooks/twilio/sms/"
    assert stored["sms_fallback_url"] == "https://numfree.example/webhooks/twilio/sms/"
    assert stored["voice_url"] == "https://numfree.example/webhooks/twilio/voice/"
    assert stored["voice_fallback_url"] == "https://numfree.example/webhooks/twilio/voice/"
    assert stored["status_callback"] == "https://numfree.example/webhooks/twilio/voice/status/"


def test_a_number_bought_by_someone_else_meanwhile_is_unavailable() -> None:
    e164 = twilio_api.search_numbers("US", "415")[0].e164
    twilio_api.buy_number(e164)
    with pytest.raises(twilio_api.NumberUnavailable):
        twilio_api.buy_number(e164)
    assert e164 not in {number.e164 for number in twilio_api.search_numbers("US", "415")}


def test_releasing_a_number_removes_it_and_releasing_twice_is_harmless() -> None:
    bought = twilio_api.buy_number(twilio_api.search_numbers("CA", "604")[0].e164)
    twilio_api.release_number(bought.sid)
    assert not twilio_fake.exists("number", bought.sid)
    twilio_api.release_number(bought.sid)


def test_deleting_a_message_still_in_progress_fails_retryably_then_succeeds() -> None:
    sid, _urls = twilio_fake.receive_message(
        twilio_api.account_sid(), "+14155550100", "+14155551000", [(b"GIF89a", "image/gif")]
    )
    with pytest.raises(twilio_api.NotYetDeletable) as error:
        twilio_api.delete_message(sid)
    assert error.value.code == 20009
    twilio_api.delete_message(sid)
    assert not twilio_fake.exists("message", sid)
    assert twilio_fake.count("media") == 0
    twilio_api.delete_message(sid)  # already gone counts as deleted


def test_mms_media_downloads_through_the_seam() -> None:
    _sid, urls = twilio_fake.receive_message(
        twilio_api.account_sid(), "+14155550100", "+14155551000", [(b"GIF89a-1", "image/gif")]
    )
    assert twilio_api.fetch_media(urls[0]) == (b"GIF89a-1", "image/gif")


def test_media_urls_outside_twilio_are_refused() -> None:
    with pytest.raises(twilio_api.TelephonyError):
        twilio_api.fetch_media("https://evil.example/steal")


def test_a_recording_is_fetched_as_mp3_and_deleted() -> None:
    sid, _url = twilio_fake.record_voicemail(twilio_api.account_sid(), "CA" + "0" * 32, 3)
    audio = twilio_api.fetch_recording(sid)
    assert audio.startswith(b"\xff\xfb")
    twilio_api.delete_recording(sid)
    with pytest.raises(twilio_api.NotFoundAtTwilio):
        twilio_api.fetch_recording(sid)
    twilio_api.delete_recording(sid)


def test_sending_from_a_number_we_do_not_own_is_a_twilio_error_with_its_code() -> None:
    with pytest.raises(twilio_api.TelephonyError) as error:
        twilio_api.send_sms("+14155550000", "+14155550100", "hi")
    assert error.value.code == 21606


def test_wrong_credentials_are_refused_like_twilio_does(settings) -> None:
    twilio_api._client.cache_clear()
    settings.SECRET_KEY = "another install"  # the fake's stored account differs from the client's
    try:
        from twilio.rest import Client

        from telephony.twilio_fake import FakeTwilioHttpClient

        sid = twilio_api.account_sid()
        wrong = Client(sid, "wrong-token", http_client=FakeTwilioHttpClient(sid, twilio_api.auth_token()))
        with pytest.raises(twilio_api.TelephonyError) as error, twilio_api._translated("search numbers"):
            wrong.available_phone_numbers("US").local.list(area_code="415")
        assert (error.value.status, error.value.code) == (401, 20003)
    finally:
        twilio_api._client.cache_clear()
