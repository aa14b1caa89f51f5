from __future__ import annotations

import pytest


@pytest.mark.django_db
def test_healthz_answers_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


@pytest.mark.django_db
def test_landing_page_says_what_numfree_is(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"second phone number" in response.content.lower()
