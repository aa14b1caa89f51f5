"""Support staff in the admin: find a user by a phone number in any spelling, see their number,
plan and call and text metadata read-only (every view audited), and fulfil a privacy request
with one action that emails the user."""

from __future__ import annotations

import pytest
from django.core import mail

from billing.models import BillingAccount
from numfree.outbox.testing import run_pending
from privacy import subject_requests
from privacy.models import DataSubjectRequest, StaffAccess
from telephony.models import CallLog, Forwarding, PhoneNumber, SmsLog
from tests.conftest import make_user
from twofactor.testing import force_login_with_two_factor

pytestmark = pytest.mark.django_db
ALICE_NUMBER = "+14155550142"
ALICE_PHONE = "+442079460958"


@pytest.fixture
def support(client, db):  # type: ignore[no-untyped-def]
    """A member of the Support group: may view, nothing more."""
    from django.contrib.auth.models import Group, Permission

    member = make_user("helper@numfree.com", name="Helper")
    member.is_staff = True
    member.save()
    group = Group.objects.get(name="Support")
    member.groups.add(group)
    member.user_permissions.set(
        Permission.objects.filter(
            codename__in=["view_user", "view_calllog", "view_smslog", "view_phonenumber", "view_billingaccount"]
        )
    )
    force_login_with_two_factor(client, member)
    return member


@pytest.fixture
def alice_set_up(alice):  # type: ignore[no-untyped-def]
    PhoneNumber.objects.create(user=alice, e164=ALICE_NUMBER, twilio_sid="PN" + "a" * 32, country="US")
    Forwarding.objects.create(user=alice, phone=ALICE_PHONE, phone_verified=True)
    BillingAccount.objects.create(user=alice, plan="monthly", status="active", stripe_customer_id="cus_alice")
    CallLog.objects.create(
        user=alice,
        kind="phone",
        direction="in",
        external_id="CA" + "1" * 32,
        peer_number="+14155550177",
        status="completed",
        duration_s=42,
    )
    SmsLog.objects.create(
        user=alice,
        direction="out",
        message_sid="SM" + "2" * 32,
        peer_number="+14155550178",
        our_number=ALICE_NUMBER,
        status="delivered",
    )
    return alice


@pytest.mark.parametrize(
    "typed",
    ["(415) 555-0142", "415.555.0142", "+1 415 555 0142", "1-415-555-0142", "+44 20 7946 0958", "0044 20 7946 0958"],
)
def test_support_finds_a_user_by_their_numfree_number_or_forwarding_phone_in_any_spelling(
    client, support, alice_set_up, bob, typed
) -> None:
    page = client.get("/admin/accounts/user/", {"q": typed}).content.decode()
    assert "alice@example.com" in page and "bob@example.com" not in page


def test_a_number_nobody_holds_finds_nobody(client, support, alice_set_up) -> None:
    page = client.get("/admin/accounts/user/", {"q": "(415) 555-0999"}).content.decode()
    assert "alice@example.com" not in page and "0 users" in page


def test_support_sees_the_users_number_plan_and_links_to_their_logs(client, support, alice_set_up) -> None:
    page = client.get(f"/admin/accounts/user/{alice_set_up.pk}/change/").content.decode()
    assert ALICE_NUMBER in page and f"calls ring {ALICE_PHONE}" in page
    assert "monthly: active" in page
    assert f"/admin/telephony/calllog/?user__id__exact={alice_set_up.pk}" in page


def test_support_reads_call_and_text_metadata_and_every_view_is_audited(client, support, alice_set_up, bob) -> None:
    calls = client.get("/admin/telephony/calllog/", {"user__id__exact": alice_set_up.pk})
    assert calls.status_code == 200 and "+14155550177" in calls.content.decode()
    texts = client.get("/admin/telephony/smslog/", {"q": "(415) 555-0178"})
    assert texts.status_code == 200 and "+14155550178" in texts.content.decode()
    seen = StaffAccess.objects.filter(staff=support, subject=alice_set_up)
    assert seen.count() == 2
    assert not StaffAccess.objects.filter(subject=bob).exists()


def test_the_logs_are_read_only_even_for_a_superuser(client, superuser, alice_set_up) -> None:
    force_login_with_two_factor(client, superuser)
    call = CallLog.objects.get()
    page = client.get(f"/admin/telephony/calllog/{call.pk}/change/").content.decode()
    assert 'name="_save"' not in page
    assert client.post(f"/admin/telephony/calllog/{call.pk}/change/", {"status": "failed"}).status_code == 403
    assert client.post(f"/admin/telephony/calllog/{call.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/telephony/smslog/add/").status_code == 403
    call.refresh_from_db()
    assert call.status == "completed"


def test_admin_pages_need_two_factor(client, alice_set_up) -> None:
    member = make_user("nofactor@numfree.com")
    member.is_staff = member.is_superuser = True
    member.save()
    client.force_login(member)
    assert client.get("/admin/telephony/calllog/").status_code in {302, 403}


def test_one_action_fulfils_a_request_and_emails_the_user_once(client, superuser, alice) -> None:
    force_login_with_two_factor(client, superuser)
    request = subject_requests.record_from_center(alice, DataSubjectRequest.CORRECTION, "fix my name")
    run_pending()
    mail.outbox.clear()
    action = {"action": "fulfil_and_email", "_selected_action": [request.pk]}

    response = client.post("/admin/privacy/datasubjectrequest/", action, follow=True)
    assert "1 request(s) marked fulfilled; 1 requester(s) emailed." in response.content.decode()
    client.post("/admin/privacy/datasubjectrequest/", action, follow=True)  # clicked twice
    run_pending()

    request.refresh_from_db()
    assert request.status == "fulfilled" and request.fulfilled_at is not None
    [done] = mail.outbox
    assert done.to == ["alice@example.com"] and done.subject == "Your privacy request is done"


def test_a_request_support_types_in_is_acknowledged_to_the_requester(client, superuser) -> None:
    force_login_with_two_factor(client, superuser)
    response = client.post(
        "/admin/privacy/datasubjectrequest/add/",
        {
            "kind": "access",
            "regulation": "gdpr",
            "source": "email",
            "status": "received",
            "requester_name": "Erin",
            "requester_email": "erin@example.org",
            "identity_verification": "Replied from the account's address",
            "details": "",
            "received_at_0": "2026-12-01",
            "received_at_1": "10:00:00",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    run_pending()
    [receipt] = mail.outbox
    assert receipt.to == ["erin@example.org"] and receipt.subject == "We received your privacy request"
