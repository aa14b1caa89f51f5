"""Every error of the accounts API is {code, message} from the documented list; never {"detail"}."""

from __future__ import annotations

import re
from pathlib import Path

import jwt
import pytest
from django.conf import settings

from numfree.errors import ERROR_CODES
from tests.accounts.api_session import LOGOUT_URL, ME_URL, REFRESH_URL, TOKEN_URL, bearer, me, obtain, post_json

pytestmark = pytest.mark.django_db

ERRORS_DOC = Path(settings.BASE_DIR) / "docs" / "errors.md"


def assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message"}, body
    assert body["code"] == code
    assert body["message"]


@pytest.mark.parametrize("url", [TOKEN_URL, REFRESH_URL, LOGOUT_URL])
def test_malformed_json_is_a_parse_error(client, url):
    response = client.post(url, data="{not json", content_type="application/json")
    assert_error(response, 400, "parse_error")


@pytest.mark.parametrize("url", [TOKEN_URL, REFRESH_URL, LOGOUT_URL])
def test_a_form_post_is_an_unsupported_media_type(client, url):
    response = client.post(url, data={"email": "a@example.com", "password": "x", "refresh": "x"})
    assert_error(response, 415, "unsupported_media_type")


def test_missing_fields_are_named_in_the_message(client, db):
    response = post_json(client, TOKEN_URL, {"email": "alice@example.com"})
    assert_error(response, 400, "invalid")
    assert response.json()["message"].startswith("password:")


def test_a_body_that_is_not_an_object_is_invalid(client, db):
    assert_error(post_json(client, REFRESH_URL, ["a", "list"]), 400, "invalid")


@pytest.mark.parametrize(
    ("method", "url"), [("get", TOKEN_URL), ("put", REFRESH_URL), ("get", LOGOUT_URL), ("delete", ME_URL)]
)
def test_a_wrong_method_is_method_not_allowed(client, alice, method, url):
    headers = bearer(obtain(client, alice.email)["access"]) if url == ME_URL else {}
    response = getattr(client, method)(url, **headers)
    assert_error(response, 405, "method_not_allowed")


def test_me_without_a_token_asks_for_one(client, db):
    response = client.get(ME_URL)
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.parametrize(
    "header",
    [
        "Bearer garbage",
        "Bearer a.b.c",
        "Bearer",
        "Bearer two tokens",
        "Bearer " + jwt.encode({"token_type": "access", "user_id": "1", "jti": "x", "exp": 4e9}, "x" * 40),
    ],
)
def test_a_bad_token_is_token_invalid(client, alice, header):
    response = client.get(ME_URL, HTTP_AUTHORIZATION=header)
    assert_error(response, 401, "token_invalid")


def test_a_token_signed_by_us_without_a_sign_in_is_token_invalid(client, alice):
    payload = {"token_type": "access", "user_id": str(alice.pk), "jti": "x", "exp": 4e9}
    token = jwt.encode(payload, settings.SIMPLE_JWT["SIGNING_KEY"], algorithm="HS256")
    assert_error(me(client, token), 401, "token_invalid")


@pytest.mark.parametrize("refresh_value", ["", "garbage", None, 42])
def test_a_refresh_that_is_not_a_token_is_refused_clearly(client, db, refresh_value):
    response = post_json(client, REFRESH_URL, {"refresh": refresh_value})
    assert response.status_code in (400, 401)
    assert set(response.json()) == {"code", "message"}
    assert response.json()["code"] in ("invalid", "token_invalid")


def test_an_html_accept_header_still_gets_json_errors(client, db):
    response = client.get(ME_URL, HTTP_ACCEPT="text/html")
    assert response["Content-Type"].startswith("application/json")
    assert "detail" not in response.json()


def test_every_error_code_is_documented_in_docs_errors_md():
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", ERRORS_DOC.read_text(), flags=re.MULTILINE))
    assert set(ERROR_CODES) <= documented, sorted(set(ERROR_CODES) - documented)
