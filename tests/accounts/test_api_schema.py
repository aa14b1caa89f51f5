"""/api/schema/ documents the accounts API with its request and response shapes."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client) -> dict:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def body_schema(schema: dict, ref_holder: dict) -> dict:
    ref = ref_holder["content"]["application/json"]["schema"]["$ref"]
    return schema["components"]["schemas"][ref.rsplit("/", 1)[1]]


def test_the_schema_lists_the_token_and_me_endpoints(schema):
    paths = schema["paths"]
    assert set(paths["/api/auth/token/"]) == {"post"}
    assert set(paths["/api/auth/token/refresh/"]) == {"post"}
    assert set(paths["/api/auth/logout/"]) == {"post"}
    assert {"get", "patch"} <= set(paths["/api/me/"])


def test_the_token_endpoint_documents_its_request_answer_and_errors(schema):
    operation = schema["paths"]["/api/auth/token/"]["post"]
    request = body_schema(schema, operation["requestBody"])
    assert set(request["properties"]) == {"email", "password", "otp"}  # otp: two-factor accounts only
    assert set(request["required"]) == {"email", "password"}
    assert set(body_schema(schema, operation["responses"]["200"])["properties"]) == {"access", "refresh"}
    assert {"400", "401", "403", "429"} <= set(operation["responses"])
    assert set(body_schema(schema, operation["responses"]["401"])["properties"]) == {"code", "message"}
    assert "security" not in operation  # no bearer token needed to sign in
    assert "security" not in schema


def test_refresh_documents_the_race_answer(schema):
    operation = schema["paths"]["/api/auth/token/refresh/"]["post"]
    assert "refresh_race" in operation["responses"]["409"]["description"]
    assert set(body_schema(schema, operation["requestBody"])["properties"]) == {"refresh"}


def test_me_documents_its_shape_and_bearer_authentication(schema):
    me = schema["paths"]["/api/me/"]
    assert set(body_schema(schema, me["get"]["responses"]["200"])["properties"]) == {
        "email",
        "name",
        "email_verified",
        "number",
    }
    assert set(body_schema(schema, me["patch"]["requestBody"])["properties"]) == {"name"}
    assert me["get"]["security"] == [{"bearerAuth": []}]
    assert schema["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
