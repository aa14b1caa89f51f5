"""Refreshing one token from many threads at once: exactly one wins, nobody gets signed out.

Real threads on real database connections, released together by a barrier.
The PostgreSQL test is the one that matters for production; the same race
runs on SQLite in the embedded pass (IMMEDIATE transactions serialize it).
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test import Client

from accounts.models import SignIn
from tests.conftest import PASSWORD, make_user

THREADS = 20
REFRESH_URL = "/api/auth/token/refresh/"


def post_json(client: Client, url: str, body: dict) -> object:
    return client.post(url, data=json.dumps(body), content_type="application/json")


def obtain(client: Client) -> dict[str, str]:
    response = post_json(client, "/api/auth/token/", {"email": "racer@example.com", "password": PASSWORD})
    assert response.status_code == 200
    return response.json()


def refresh_from_threads_at_once(refresh_token: str) -> list[tuple[int, dict]]:
    barrier = threading.Barrier(THREADS, timeout=30)
    results: list[tuple[int, dict]] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def worker() -> None:
        client = Client()
        try:
            barrier.wait()
            response = post_json(client, REFRESH_URL, {"refresh": refresh_token})
            with lock:
                results.append((response.status_code, response.json()))
        except BaseException as exc:
            with lock:
                failures.append(exc)
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a refresh never answered"
    assert not failures, failures
    return results


def assert_exactly_one_wins(client: Client) -> None:
    make_user("racer@example.com")
    tokens = obtain(client)

    results = refresh_from_threads_at_once(tokens["refresh"])

    statuses = Counter(status for status, _ in results)
    assert statuses == {200: 1, 409: THREADS - 1}, statuses
    assert all(body["code"] == "refresh_race" for status, body in results if status == 409)
    (winner,) = [body for status, body in results if status == 200]
    assert SignIn.objects.active().count() == 1
    follow_up = post_json(client, REFRESH_URL, {"refresh": winner["refresh"]})
    assert follow_up.status_code == 200
    assert client.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {follow_up.json()['access']}").status_code == 200


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_refreshes_of_one_token_on_postgresql_have_exactly_one_winner(client):
    assert connection.vendor == "postgresql"
    assert_exactly_one_wins(client)


@pytest.mark.skipif(settings.DATABASE_IS_POSTGRES, reason="the PostgreSQL test above covers this database")
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_refreshes_of_one_token_on_sqlite_have_exactly_one_winner(client):
    assert connection.vendor == "sqlite"
    assert_exactly_one_wins(client)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_rotated_token_presented_after_the_grace_window_ends_the_sign_in_on_postgresql(client):
    make_user("racer@example.com")
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False) as traveller:
        first = obtain(client)
        other_sign_in = obtain(client)
        second = post_json(client, REFRESH_URL, {"refresh": first["refresh"]}).json()
        traveller.shift(timedelta(seconds=settings.JWT_REFRESH_REUSE_GRACE_SECONDS + 1))

        response = post_json(client, REFRESH_URL, {"refresh": first["refresh"]})

        assert response.status_code == 401
        assert response.json()["code"] == "token_revoked"
        me = client.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {second['access']}")
        assert me.status_code == 401
        assert me.json()["code"] == "token_revoked"
        assert post_json(client, REFRESH_URL, {"refresh": second["refresh"]}).status_code == 401
        assert client.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {other_sign_in['access']}").status_code == 200
    assert SignIn.objects.filter(revoked_reason=SignIn.REVOKED_REUSE).count() == 1
