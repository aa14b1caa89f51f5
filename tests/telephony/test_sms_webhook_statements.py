"""An inbound text costs three statements: one SELECT (the number, its owner, the owner's billing
state and whether the sender is blocked), the log row and the outbox row; the outcome is the same
as when each was asked separately.

transaction=True: receive_sms's atomic block is then a real transaction (no test savepoint around it),
as in production. BEGIN and COMMIT are left out of the count (on SQLite Django issues them as
statements, on PostgreSQL psycopg does); a SAVEPOINT would count.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import BillingAccount
from numfree.outbox.models import Job
from numfree.outbox.testing import run_pending
from telephony.forwarding import receive_sms
from telephony.models import BlockedNumber, SmsLog
from tests.telephony.conftest import inbound_sms_params

pytestmark = pytest.mark.django_db(transaction=True)


@contextmanager
def statements(*expected: str) -> Iterator[None]:
    """The statements run inside, by their first word, without BEGIN, COMMIT and ROLLBACK."""
    with CaptureQueriesContext(connection) as captured:
        yield
    words = [query["sql"].split(None, 1)[0].upper() for query in captured.captured_queries]
    assert [word for word in words if word not in {"BEGIN", "COMMIT", "ROLLBACK"}] == list(expected), (
        captured.captured_queries
    )


def _jobs() -> list[str]:
    return sorted(Job.objects.values_list("kind", flat=True))


def test_a_text_in_service_is_one_select_and_two_inserts(alice_number) -> None:
    params = inbound_sms_params(alice_number.e164)
    with statements("SELECT", "INSERT", "INSERT"):
        receive_sms(params)
    log = SmsLog.objects.get()
    assert (log.user_id, log.blocked, log.dropped) == (alice_number.user_id, False, False)
    assert _jobs() == ["telephony.forward_sms"]


def test_a_blocked_sender_costs_the_same_and_is_not_forwarded(alice, alice_number) -> None:
    BlockedNumber.objects.create(user=alice, number="+14155550100")
    BlockedNumber.objects.create(user=alice, number="+14155550111")  # another one changes nothing
    params = inbound_sms_params(alice_number.e164, sender="+14155550100")
    with statements("SELECT", "INSERT", "INSERT"):
        receive_sms(params)
    log = SmsLog.objects.get()
    assert (log.blocked, log.dropped) == (True, False)
    assert _jobs() == ["telephony.delete_message"]


def test_another_users_block_list_does_not_block(bob, alice_number) -> None:
    BlockedNumber.objects.create(user=bob, number="+14155550100")
    with statements("SELECT", "INSERT", "INSERT"):
        receive_sms(inbound_sms_params(alice_number.e164, sender="+14155550100"))
    assert not SmsLog.objects.get().blocked
    assert _jobs() == ["telephony.forward_sms"]


@pytest.mark.parametrize("state", ["no_account", "canceled", "unverified", "inactive"])
def test_a_number_without_service_logs_the_text_as_dropped(state, alice, alice_number) -> None:
    if state == "no_account":
        BillingAccount.objects.filter(user=alice).delete()
    elif state == "canceled":
        BillingAccount.objects.filter(user=alice).update(status="canceled", ended_at=alice_number.bought_at)
    else:
        field = {"unverified": "email_verified", "inactive": "is_active"}[state]
        type(alice).objects.filter(pk=alice.pk).update(**{field: False})
    receive_sms(inbound_sms_params(alice_number.e164))
    log = SmsLog.objects.get()
    assert (log.blocked, log.dropped) == (False, True)
    assert _jobs() == ["telephony.delete_message"]


def test_a_text_for_a_number_nobody_holds_is_one_select_and_one_insert() -> None:
    with statements("SELECT", "INSERT"):
        receive_sms(inbound_sms_params("+14155550999"))
    assert not SmsLog.objects.exists()
    assert _jobs() == ["telephony.delete_message"]


def test_a_redelivery_changes_nothing_and_a_queued_duplicate_key_keeps_the_log(alice_number) -> None:
    params = inbound_sms_params(alice_number.e164)
    receive_sms(params)
    with statements("SELECT", "INSERT"):  # the log row's unique sid refuses it
        receive_sms(params)
    assert SmsLog.objects.count() == 1
    assert _jobs() == ["telephony.forward_sms"]

    # A delete job for the sid already queued (the number was nobody's when it first came):
    # the log row is still written, in the same transaction, and the job is not queued twice.
    again = inbound_sms_params(alice_number.e164)
    SmsLog.objects.all().delete()
    Job.objects.all().delete()
    receive_sms({**again, "To": "+14155550999"})
    BlockedNumber.objects.create(user=alice_number.user, number=again["From"])
    with statements("SELECT", "INSERT", "INSERT"):
        receive_sms(again)
    assert SmsLog.objects.get().blocked
    assert _jobs() == ["telephony.delete_message"]
    assert run_pending() == 1
