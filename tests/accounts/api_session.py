"""How the extension talks to the accounts API in tests: JSON posts and bearer headers."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from tests.conftest import PASSWORD

TOKEN_URL = "/api/auth/token/"
REFRESH_URL = "/api/auth/token/refresh/"
LOGOUT_URL = "/api/auth/logout/"
ME_URL = "/api/me/"


def post_json(client: Client, url: str, body: Any, **extra: Any) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json", **extra)


def obtain(client: Client, email: str, password: str = PASSWORD, **extra: Any) -> dict[str, str]:
    response = post_json(client, TOKEN_URL, {"email": email, "password": password}, **extra)
    assert response.status_code == 200, response.content
    return response.json()


def refresh(client: Client, refresh_token: str, **extra: Any) -> Any:
    return post_json(client, REFRESH_URL, {"refresh": refresh_token}, **extra)


def bearer(access: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {access}"}


def me(client: Client, access: str) -> Any:
    return client.get(ME_URL, **bearer(access))
