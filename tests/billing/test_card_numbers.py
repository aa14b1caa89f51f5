"""No card number by accident: Stripe's test card numbers typed into every free-text field a user can reach,
then a whole subscribe/renew/fail/cancel flow, leave none of them in any table, raw database file or log."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.db import connection

from numfree.card_numbers import FreeTextCharField, FreeTextField, mask_card_numbers
from numfree.outbox.testing import run_pending

# From Stripe's testing docs: Visa, Visa debit, Mastercard (5- and 2-series),
# Mastercard debit, Amex, Discover, Diners (16 and 14 digits), JCB, UnionPay,
# and the decline / 3-D Secure cards.
STRIPE_TEST_CARDS = [
    "4242424242424242",
    "4000056655665556",
    "5555555555554444",
    "2223003122003222",
    "5200828282828210",
    "378282246310005",
    "6011111111111117",
    "3056930009020004",
    "36227206271667",
    "3566002020360505",
    "6200000000000005",
    "4000000000000002",
    "4000000000009995",
    "4000002500003155",
    "4000000000000341",
]


def _spaced(number: str) -> str:
    if len(number) == 15:  # Amex prints 4-6-5
        return f"{number[:4]} {number[4:10]} {number[10:]}"
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


def _typed_forms(number: str) -> list[str]:
    return [number, _spaced(number), _spaced(number).replace(" ", "-")]


@pytest.mark.parametrize("number", STRIPE_TEST_CARDS)
def test_each_stripe_test_card_is_masked_to_its_last_four_in_every_spelling(number):
    for typed in _typed_forms(number):
        masked = mask_card_numbers(f"my card is {typed}, thanks")
        assert masked == f"my card is •••• {number[-4:]}, thanks"


def test_numbers_that_are_not_cards_are_left_alone():
    text = "order 1234567890123 and phone +14155550123 and 4242424242424241"
    assert mask_card_numbers(text) == text


def test_every_free_text_model_field_of_the_project_masks(db):
    free_text = [
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, FreeTextCharField | FreeTextField)
    ]
    assert "accounts.User.name" in free_text


def _type_card_numbers_everywhere(client) -> None:  # type: ignore[no-untyped-def]
    """Every free-text field a signed-in user can reach today (name, support request, voicemail greeting)."""
    for index, number in enumerate(STRIPE_TEST_CARDS):
        typed = _typed_forms(number)[index % 3]
        client.post("/account/", {"name": f"Card {typed}"})
        client.post("/privacy/center/name/", {"name": f"Name {typed}"})
        client.post("/privacy/center/request/", {"kind": "correction", "details": f"please note {typed}"})
        client.post("/dashboard/forwarding/preferences/", {"greeting": f"Hi, pay to {typed}"})


def _table_dump() -> str:
    rows = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            rows.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(rows)


def _found(numbers: list[str], haystack: str) -> list[str]:
    digits_only = re.sub(r"[\s-]", "", haystack)
    return [n for n in numbers if n in digits_only or any(form in haystack for form in _typed_forms(n))]


@pytest.mark.django_db(transaction=True)
def test_card_numbers_typed_anywhere_are_stored_nowhere_after_a_full_billing_flow(alice, caplog):
    from django.test import Client

    from tests.billing.conftest import FakeStripeCustomer

    caplog.set_level(logging.DEBUG)
    client = Client()
    client.force_login(alice)
    stripe_customer = FakeStripeCustomer(client, alice)
    _type_card_numbers_everywhere(client)
    stripe_customer.subscribe()
    _type_card_numbers_everywhere(client)
    stripe_customer.renew()
    stripe_customer.fail_payment()
    stripe_customer.cancel()
    run_pending(periodic=True)

    alice.refresh_from_db()
    assert alice.name.startswith("Name •••• ")
    assert _found(STRIPE_TEST_CARDS, _table_dump()) == []
    assert _found(STRIPE_TEST_CARDS, caplog.text) == []
    if connection.vendor == "sqlite":
        database = Path(connection.settings_dict["NAME"])
        raw = b"".join(path.read_bytes() for path in (database, Path(f"{database}-wal")) if path.exists())
        assert "Name •••• ".encode() in raw  # the right file, holding what was typed (masked)
        assert _found(STRIPE_TEST_CARDS, raw.decode("latin-1")) == []
