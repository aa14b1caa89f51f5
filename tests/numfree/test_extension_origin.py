"""The extension's origin: production names the extension ids it accepts, and a refused
extension can learn why (POST /api/signaling/origin-check/ answers as the handshake decides)."""

from __future__ import annotations

import pytest
from channels.testing import WebsocketCommunicator

from numfree.asgi import application
from tests.numfree.test_settings import PRODUCTION, manage

DEV_ID = "lcfnpmfgjjhjcpnhpinojcpgakoaaonk"
CHECK = "/api/signaling/origin-check/"


def test_production_refuses_to_start_without_extension_ids(tmp_path):
    env = {k: v for k, v in PRODUCTION.items() if k != "NUMFREE_EXTENSION_IDS"}
    result = manage(tmp_path, "check", **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "NUMFREE_EXTENSION_IDS" in result.stderr


def test_production_starts_with_the_store_id_listed(tmp_path):
    result = manage(tmp_path, "check", **PRODUCTION)
    assert result.returncode == 0, result.stderr


def test_an_extension_id_that_is_not_one_stops_start_up_naming_the_variable(tmp_path):
    result = manage(tmp_path, "check", NUMFREE_EXTENSION_IDS=f"{DEV_ID},https://numfree.com")
    assert result.returncode != 0
    assert "NUMFREE_EXTENSION_IDS" in result.stderr


async def _handshake_accepted(origin: str | None) -> bool:
    headers = [(b"origin", origin.encode())] if origin is not None else []
    communicator = WebsocketCommunicator(application, "/ws/signaling/", headers=headers)
    connected, _ = await communicator.connect(timeout=3)
    await communicator.disconnect()
    return connected


ORIGINS = [
    f"chrome-extension://{DEV_ID}",
    "http://127.0.0.1:8000",
    "chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "https://evil.example",
    "http://127.0.0.1:8001",
    "null",
    None,
]


@pytest.mark.django_db
@pytest.mark.parametrize("origin", ORIGINS)
def test_the_origin_check_answers_what_the_handshake_decides(client, origin, async_to_sync_handshake):
    headers = {"HTTP_ORIGIN": origin} if origin is not None else {}
    answer = client.post(CHECK, **headers)
    accepted = async_to_sync_handshake(origin)
    assert answer.status_code == (200 if accepted else 403)
    if accepted:
        assert answer.json() == {"origin": origin, "allowed": True}
    else:
        body = answer.json()
        assert set(body) == {"code", "message"}
        assert body["code"] == "origin_not_allowed"
        assert "NUMFREE_EXTENSION_IDS" in body["message"]


@pytest.fixture
def async_to_sync_handshake():  # type: ignore[no-untyped-def]
    from asgiref.sync import async_to_sync

    return async_to_sync(_handshake_accepted)


@pytest.mark.django_db
def test_an_unknown_extension_is_told_its_own_origin(client):
    origin = "chrome-extension://bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
    body = client.post(CHECK, HTTP_ORIGIN=origin).json()
    assert body["code"] == "origin_not_allowed"
    assert origin in body["message"]


@pytest.mark.django_db
def test_a_listed_extension_is_accepted_when_the_deployment_names_it(client, settings):
    other = "cccccccccccccccccccccccccccccccc"
    assert client.post(CHECK, HTTP_ORIGIN=f"chrome-extension://{other}").status_code == 403
    settings.NUMFREE_EXTENSION_IDS = [other]
    assert client.post(CHECK, HTTP_ORIGIN=f"chrome-extension://{other}").status_code == 200
    assert client.post(CHECK, HTTP_ORIGIN=f"chrome-extension://{DEV_ID}").status_code == 403


@pytest.mark.django_db
def test_the_check_needs_no_token_and_only_answers_post(client):
    answer = client.get(CHECK, HTTP_ORIGIN=f"chrome-extension://{DEV_ID}")
    assert answer.status_code == 405
    assert answer.json()["code"] == "method_not_allowed"
    garbage = client.post(CHECK, data="{not json", content_type="application/json", HTTP_ORIGIN="https://x.example")
    assert garbage.status_code in {400, 403}
    assert set(garbage.json()) == {"code", "message"}
