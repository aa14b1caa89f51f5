"""Voicemail: playing marks it heard (a static script on the audio's play event), the unheard count, download, delete asks first."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.template import Context, RequestContext, Template
from django.test import Client, RequestFactory

from telephony.models import Voicemail

pytestmark = pytest.mark.django_db


@pytest.fixture
def voicemail(alice):  # type: ignore[no-untyped-def]
    voicemail = Voicemail.objects.create(
        user=alice, recording_sid="RE" + "0" * 32, call_sid="CA" + "0" * 32, peer_number="+14155550100", duration_s=4
    )
    voicemail.audio.save("a.mp3", ContentFile(b"\xff\xfbaudio"), save=True)
    return voicemail


def _count_for(user) -> str:  # type: ignore[no-untyped-def]
    request = RequestFactory().get("/")
    request.user = user
    return Template("{% load telephony_tags %}{% unheard_voicemail as n %}{{ n }}").render(RequestContext(request))


def test_the_player_loads_nothing_until_played_and_carries_the_heard_endpoint(alice_client, voicemail) -> None:
    page = alice_client.get("/dashboard/voicemail/").content.decode()
    assert 'preload="none"' in page
    assert f'data-heard-url="/dashboard/voicemail/{voicemail.pk}/heard/"' in page
    assert "telephony/voicemail" in page and "<script>" not in page


def test_the_play_event_post_marks_it_heard_and_answers_json(alice_client, voicemail, alice) -> None:
    assert _count_for(alice) == "1"
    response = alice_client.post(
        f"/dashboard/voicemail/{voicemail.pk}/heard/", {"heard": "1"}, HTTP_ACCEPT="application/json"
    )
    assert response.json() == {"id": voicemail.pk, "heard": True}
    assert _count_for(alice) == "0"
    assert "data-heard-url" not in alice_client.get("/dashboard/voicemail/").content.decode()


def test_the_unheard_count_is_zero_for_visitors_and_other_users(voicemail, bob) -> None:
    from django.contrib.auth.models import AnonymousUser

    assert _count_for(AnonymousUser()) == "0"
    assert _count_for(bob) == "0"
    assert Template("{% load telephony_tags %}{% unheard_voicemail as n %}{{ n }}").render(Context({})) == "0"


def test_the_recording_can_be_downloaded_by_its_owner_only(alice_client, voicemail, bob) -> None:
    response = alice_client.get(f"/dashboard/voicemail/{voicemail.pk}/audio/?download=1")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert b"".join(response.streaming_content) == b"\xff\xfbaudio"
    other = Client()
    other.force_login(bob)
    assert other.get(f"/dashboard/voicemail/{voicemail.pk}/audio/?download=1").status_code == 404
    assert Client().get(f"/dashboard/voicemail/{voicemail.pk}/audio/?download=1").status_code == 302


def test_delete_asks_first_saying_what_follows_then_deletes_on_confirm(alice_client, voicemail) -> None:
    listing = alice_client.get("/dashboard/voicemail/").content.decode()
    assert f'href="/dashboard/voicemail/{voicemail.pk}/delete/"' in listing
    question = alice_client.get(f"/dashboard/voicemail/{voicemail.pk}/delete/")
    assert question.status_code == 200
    text = question.content.decode()
    assert "cannot be brought back" in text and "Twilio" in text and "Download" in text
    assert Voicemail.objects.filter(pk=voicemail.pk).exists()
    assert alice_client.post(f"/dashboard/voicemail/{voicemail.pk}/delete/").status_code == 302
    assert not Voicemail.objects.filter(pk=voicemail.pk).exists()


def test_other_users_and_visitors_cannot_reach_the_delete_question(voicemail, bob) -> None:
    other = Client()
    other.force_login(bob)
    assert other.get(f"/dashboard/voicemail/{voicemail.pk}/delete/").status_code == 404
    assert Client().get(f"/dashboard/voicemail/{voicemail.pk}/delete/").status_code == 302
    assert Voicemail.objects.filter(pk=voicemail.pk).exists()
