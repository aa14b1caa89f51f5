"""Every operation in /api/schema/, fed what schemathesis generates from the schema: never a 5xx.

The schema is read from the running app (Django's WSGI handler, in process, on
the test database) and each generated request is sent by a signed-in user
with an access token minted for that request alone, since logging out (one of
the operations) revokes the token in use. Responses are also checked against
the schema where it documents them. Examples per operation: the hypothesis
profile's max_examples (tests/conftest.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import schemathesis
import yaml
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from accounts.tokens import issue_pair
from signaling import contacts
from tests.conftest import make_user
from tests.telephony.conftest import give_plan

CHECKS = [not_a_server_error, response_schema_conformance]


@pytest.fixture
def _wsgi_in_the_test_transaction() -> Iterator[None]:
    """Django closes the connection around each WSGI request; the test client does not, and neither may we.

    Closing it would end the test's transaction (and its fixtures' rows) mid-test.
    """
    for signal in (signals.request_started, signals.request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (signals.request_started, signals.request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def api_user(db):  # type: ignore[no-untyped-def]
    """A verified user with a plan, a number and a contact, so the operations have something to work on."""
    from telephony import twilio_api
    from telephony.models import PhoneNumber

    user = make_user("fuzz@example.com", name="Fuzz")
    give_plan(user)
    bought = twilio_api.buy_number(twilio_api.search_numbers("US", "415")[0].e164)
    PhoneNumber.objects.create(user=user, e164=bought.e164, twilio_sid=bought.sid, country="US")
    friend = make_user("friend@example.com")
    contacts.accept(user, str(contacts.ask(friend, user.email).id))
    return user


def the_served_schema() -> dict:
    """What GET /api/schema/ serves, built the same way without a request (collection runs before any database)."""
    return SchemaGenerator().get_schema(request=None, public=True)


schema = schemathesis.openapi.from_dict(the_served_schema())
schema.app = get_wsgi_application()  # requests go to the app in process


def test_the_fuzzed_schema_is_the_one_served_at_api_schema(client) -> None:  # type: ignore[no-untyped-def]
    served = yaml.safe_load(client.get("/api/schema/").content)

    assert served == json.loads(json.dumps(the_served_schema()))
    assert len(list(schema.get_all_operations())) >= 14


@pytest.mark.usefixtures("_wsgi_in_the_test_transaction")
@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # api_user is meant to be shared
def test_no_api_operation_answers_a_server_error_to_generated_input(case, api_user) -> None:  # type: ignore[no-untyped-def]
    token = issue_pair(api_user).access
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
