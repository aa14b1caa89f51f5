"""Texts as conversations: the list by other party, unread state, the thread, replying there, statuses as JSON."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from telephony.models import ConversationRead, NamedNumber, SmsLog
from tests.telephony.conftest import inbound_sms_params

pytestmark = pytest.mark.django_db

ANA = "+14155550101"
BEN = "+14155550102"
SECRET_BODY = "the door code is 4471"


def _receive(twilio, number, sender: str, body: str = SECRET_BODY) -> None:  # type: ignore[no-untyped-def]
    assert twilio("/webhooks/twilio/sms/", inbound_sms_params(number.e164, sender=sender, body=body)).status_code == 200


def _status(twilio, sid: str, status: str):  # type: ignore[no-untyped-def]
    params = {"MessageSid": sid, "MessageStatus": status, "AccountSid": "AC1", "To": BEN}
    return twilio("/webhooks/twilio/sms/status/", params)


def test_texts_from_two_numbers_make_two_conversations_newest_first_with_counts_and_unread(
    twilio, alice_client, alice, alice_number
) -> None:
    _receive(twilio, alice_number, ANA)
    _receive(twilio, alice_number, ANA)
    _receive(twilio, alice_number, BEN)
    SmsLog.objects.filter(peer_number=BEN).update(created_at=timezone.now() + timedelta(minutes=1))

    response = alice_client.get("/dashboard/messages/")
    conversations = response.context["conversations"]
    assert [(c.peer_number, c.incoming, c.unread) for c in conversations] == [(BEN, 1, 1), (ANA, 2, 2)]
    page = response.content.decode()
    assert "(415) 555-0101" in page and "2 unread" in page and "1 unread" in page
    assert SECRET_BODY not in page


def test_opening_a_thread_marks_it_read_and_a_new_text_makes_it_unread_again(
    twilio, alice_client, alice, alice_number
) -> None:
    _receive(twilio, alice_number, ANA)
    thread = alice_client.get(f"/dashboard/messages/{ANA}/")
    assert thread.status_code == 200
    assert alice_client.get("/dashboard/messages/").context["conversations"][0].unread == 0

    SmsLog.objects.filter(user=alice).update(created_at=timezone.now() - timedelta(minutes=5))
    _receive(twilio, alice_number, ANA)
    assert alice_client.get("/dashboard/messages/").context["conversations"][0].unread == 1


def test_a_thread_shows_times_direction_and_forwarded_to_your_email_where_the_body_would_be(
    twilio, alice_client, alice, alice_number
) -> None:
    _receive(twilio, alice_number, ANA)
    SmsLog.objects.filter(user=alice).update(forwarded_at=timezone.now())
    page = alice_client.get(f"/dashboard/messages/{ANA}/").content.decode()
    assert "Received" in page and "Forwarded to your email" in page
    assert "UTC</time>" in page
    assert SECRET_BODY not in page


def test_a_reply_from_the_thread_goes_the_existing_send_path_and_comes_back_to_the_thread(
    twilio, alice_client, alice, alice_number
) -> None:
    _receive(twilio, alice_number, BEN)
    response = alice_client.post("/dashboard/messages/send/", {"to": BEN, "body": "On my way", "from": "thread"})
    assert response.status_code == 302 and response["Location"] == f"/dashboard/messages/{BEN}/"
    sent = SmsLog.objects.get(user=alice, direction="out")
    assert sent.peer_number == BEN

    page = alice_client.get(response["Location"]).content.decode()
    assert "Sent" in page and "Queued" in page and "On my way" not in page


def test_a_refused_reply_is_explained_in_the_thread(alice_client, alice, alice_plan) -> None:
    response = alice_client.post("/dashboard/messages/send/", {"to": BEN, "body": "hi", "from": "thread"}, follow=True)
    assert response.redirect_chain[-1][0] == f"/dashboard/messages/{BEN}/"
    assert "Get a NumFree number first" in response.content.decode()
    empty = alice_client.post("/dashboard/messages/send/", {"to": BEN, "body": "", "from": "thread"}, follow=True)
    assert empty.status_code == 200 and 'class="error' in empty.content.decode()


def test_the_statuses_endpoint_follows_twilios_callbacks(twilio, alice_client, alice, alice_number) -> None:
    alice_client.post("/dashboard/messages/send/", {"to": BEN, "body": "On my way", "from": "thread"})
    sent = SmsLog.objects.get(user=alice, direction="out")
    first = alice_client.get(f"/dashboard/messages/{BEN}/statuses/").json()
    assert first == {"messages": [{"id": sent.pk, "status": "Queued", "final": False}]}

    assert _status(twilio, sent.message_sid, "delivered").status_code == 204
    later = alice_client.get(f"/dashboard/messages/{BEN}/statuses/")
    assert later.json() == {"messages": [{"id": sent.pk, "status": "Delivered", "final": True}]}
    assert later["Cache-Control"] == "private, no-store"


def test_a_thread_polls_from_a_static_script_and_never_inline(alice_client, alice, alice_number) -> None:
    page = alice_client.get(f"/dashboard/messages/{BEN}/").content.decode()
    assert "telephony/thread" in page and f'data-statuses="/dashboard/messages/{BEN}/statuses/"' in page
    assert "<script>" not in page


def test_a_named_number_shows_its_name_in_the_list_and_thread(twilio, alice_client, alice, alice_number) -> None:
    _receive(twilio, alice_number, ANA)
    NamedNumber.objects.create(user=alice, number=ANA, name="Ana")
    assert "Ana" in alice_client.get("/dashboard/messages/").content.decode()
    assert "<strong>Ana</strong>" in alice_client.get(f"/dashboard/messages/{ANA}/").content.decode()


def test_another_user_sees_nothing_of_alices_conversations(twilio, alice, bob, alice_number) -> None:
    _receive(twilio, alice_number, ANA)
    other = Client()
    other.force_login(bob)
    assert other.get("/dashboard/messages/").context["conversations"] == []
    thread = other.get(f"/dashboard/messages/{ANA}/")
    assert thread.status_code == 200 and thread.context["texts"] == []  # a number one could text: empty
    assert other.get(f"/dashboard/messages/{ANA}/statuses/").json() == {"messages": []}
    assert not ConversationRead.objects.filter(user=bob).exists()


def test_an_outsider_gets_404_for_a_thread_that_is_no_number(alice_client, bob) -> None:
    other = Client()
    other.force_login(bob)
    for peer in ["not-a-number", "%2B1", "AMAZON", "%00", "+1415555%000100", "9" * 40]:
        assert other.get(f"/dashboard/messages/{peer}/").status_code == 404, peer
        assert other.get(f"/dashboard/messages/{peer}/statuses/").status_code == 404, peer


def test_anonymous_visitors_are_sent_to_log_in(alice) -> None:
    anonymous = Client()
    for path in ["/dashboard/messages/", f"/dashboard/messages/{ANA}/", f"/dashboard/messages/{ANA}/statuses/"]:
        response = anonymous.get(path)
        assert response.status_code == 302 and "/login/" in response["Location"], path


def test_bad_page_and_cursor_values_answer_400_not_500(alice_client, alice) -> None:
    for query in [{"page": "0"}, {"page": "x"}, {"page": "99999999999999999999"}]:
        assert alice_client.get("/dashboard/messages/", query).status_code == 400, query
    assert alice_client.get(f"/dashboard/messages/{ANA}/", {"before": "garbage"}).status_code == 400
