"""The fake Twilio cannot drift from the real one: every request NumFree's seam makes through the
official SDK, and every answer the fake gives, is checked against Twilio's own OpenAPI description
(tests/providers/twilio_api_v2010.json, trimmed to the paths the fake serves; MIT, LICENSE.twilio-oai).

Requests: the operation exists, its form or query fields are ones Twilio declares, the required
ones are there. Answers: the status is one Twilio documents for the operation and the JSON body
matches its schema, closed (no key Twilio does not have, none missing that the fake claims).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest

from telephony import twilio_api, twilio_fake
from telephony.twilio_fake import FakeTwilioHttpClient
from tests.providers.openapi_schemas import json_schema, operation

pytestmark = pytest.mark.django_db


@dataclass
class Exchange:
    method: str
    path: str
    query: dict[str, Any]
    form: dict[str, Any]
    status: int
    body: str


@pytest.fixture
def exchanges(monkeypatch) -> list[Exchange]:  # type: ignore[no-untyped-def]
    seen: list[Exchange] = []
    answer = FakeTwilioHttpClient.request

    def recording(self, method, url, params=None, data=None, **kwargs):  # type: ignore[no-untyped-def]
        response = answer(self, method, url, params=params, data=data, **kwargs)
        seen.append(
            Exchange(
                method.upper(),
                urlsplit(url).path,
                dict(params or {}),
                dict(data or {}),
                response.status_code,
                response.text,
            )
        )
        return response

    monkeypatch.setattr(FakeTwilioHttpClient, "request", recording)
    return seen


def _check(exchange: Exchange) -> str:
    """Checks one request and its answer; returns the operation's path template."""
    import json

    template, op = operation(exchange.method, exchange.path)
    declared = {p["name"]: p for p in op.get("parameters", []) if p.get("in") == "query"}
    assert set(exchange.query) <= set(declared), f"{template}: unknown query {set(exchange.query) - set(declared)}"
    if exchange.form or "requestBody" in op:
        body = op["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
        fields = set(body.get("properties", {}))
        assert set(exchange.form) <= fields, f"{template}: unknown fields {set(exchange.form) - fields}"
        assert set(body.get("required", [])) <= set(exchange.form), f"{template}: required fields missing"
    assert str(exchange.status) in op["responses"], f"{template}: {exchange.status} is not a documented answer"
    content = op["responses"][str(exchange.status)].get("content")
    if content:
        jsonschema.validate(json.loads(exchange.body), json_schema(content["application/json"]["schema"]))
    else:
        assert exchange.body == "", f"{template}: {exchange.status} has no body at Twilio"
    return template


def _every_endpoint_numfree_uses() -> None:
    """What NumFree's seam does over a number's life: search, buy, text, MMS, voicemail, clean up, release."""
    found = twilio_api.search_numbers("US", "415", limit=3)
    bought = twilio_api.buy_number(found[0].e164)
    sent = twilio_api.send_sms(bought.e164, "+14155550177", "hello")
    twilio_fake.finish_message(sent.sid)
    twilio_api.delete_message(sent.sid)
    account = twilio_api.account_sid()
    mms, _urls = twilio_fake.receive_message(account, "+14155550100", bought.e164, [(b"GIF89a", "image/gif")])
    twilio_fake.finish_message(mms)
    twilio_api.delete_message(mms)  # lists the media, deletes it, then the message
    recording, _url = twilio_fake.record_voicemail(account, "CA" + "0" * 32, 3)
    assert twilio_api.fetch_recording(recording)
    twilio_api.delete_recording(recording)
    twilio_api.release_number(bought.sid)


def test_every_request_numfree_makes_and_every_answer_of_the_fake_matches_twilios_description(exchanges) -> None:
    _every_endpoint_numfree_uses()
    checked = {(exchange.method, _check(exchange)) for exchange in exchanges}
    base = "/2010-04-01/Accounts/{AccountSid}/"
    assert checked == {
        ("GET", base + "AvailablePhoneNumbers/{CountryCode}/Local.json"),
        ("POST", base + "IncomingPhoneNumbers.json"),
        ("DELETE", base + "IncomingPhoneNumbers/{Sid}.json"),
        ("POST", base + "Messages.json"),
        ("DELETE", base + "Messages/{Sid}.json"),
        ("GET", base + "Messages/{MessageSid}/Media.json"),
        ("DELETE", base + "Messages/{MessageSid}/Media/{Sid}.json"),
        ("GET", base + "Recordings/{Sid}.json"),
        ("DELETE", base + "Recordings/{Sid}.json"),
    }


def test_twilios_errors_have_twilios_error_shape(exchanges) -> None:
    with pytest.raises(twilio_api.TelephonyError):
        twilio_api.send_sms("+14155550001", "+15005550001", "hi")  # a magic number Twilio refuses
    twilio_fake.fail_requests(status=503)
    with pytest.raises(twilio_api.TwilioUnreachable):
        twilio_api.search_numbers("US", "415")
    import json

    for exchange in exchanges:
        assert set(json.loads(exchange.body)) == {"code", "message", "more_info", "status"}
        assert json.loads(exchange.body)["status"] == exchange.status


def test_the_check_catches_a_fake_answer_that_drifted(exchanges, monkeypatch) -> None:
    """The validation is real: a message answer with a key Twilio does not have, or a wrong type, fails."""
    found = twilio_api.search_numbers("US", "415", limit=1)
    bought = twilio_api.buy_number(found[0].e164)
    original = FakeTwilioHttpClient._message_json

    for drift in ({"num_segments": 1}, {"invented": "x"}):
        monkeypatch.setattr(
            FakeTwilioHttpClient, "_message_json", lambda self, sid, data, d=drift: {**original(self, sid, data), **d}
        )
        exchanges.clear()
        twilio_api.send_sms(bought.e164, "+14155550177", "hello")
        with pytest.raises(jsonschema.ValidationError):
            _check(exchanges[-1])
