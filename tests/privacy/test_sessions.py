"""Browser sessions are stored with their account: found, exported and erased by user, without decoding anyone's."""

from __future__ import annotations

from importlib import import_module

import pytest
from django.contrib.sessions.backends.db import SessionStore as DjangoSessionStore
from django.contrib.sessions.models import Session
from django.test import Client

from privacy.models import UserSession
from privacy.personal_data import erase_sessions, export_sessions
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_signing_in_stores_the_session_with_its_account_and_signing_out_removes_it(client, alice):
    response = client.post("/login/", {"username": alice.email, "password": PASSWORD})
    assert response.status_code == 302
    session = UserSession.objects.get(session_key=client.cookies["sessionid"].value)
    assert session.user == alice
    client.post("/logout/")
    assert not UserSession.objects.filter(user=alice).exists()


def test_the_export_and_erasure_touch_only_the_users_own_sessions(alice, bob):
    for user in (alice, alice, bob):
        Client().force_login(user)
    assert len(export_sessions(alice).data["sessions"]) == 2
    erase_sessions(alice)
    assert list(UserSession.objects.values_list("user", flat=True)) == [bob.pk]


def test_a_signed_out_visitors_session_belongs_to_no_one(client):
    client.get("/login/")  # the CSRF cookie only; a session is made once something is stored
    store = import_module("privacy.sessions").SessionStore()
    store["cart"] = "nothing"
    store.save()
    assert UserSession.objects.get(session_key=store.session_key).user is None


def test_the_migration_moves_djangos_sessions_with_their_account_so_nobody_is_signed_out(alice, bob):
    from django.apps import apps
    from django.conf import settings

    signed_in = {
        "_auth_user_id": str(alice.pk),
        "_auth_user_backend": settings.AUTHENTICATION_BACKENDS[0],
        "_auth_user_hash": alice.get_session_auth_hash(),
    }
    keys = {}
    for name, data in {"alice": signed_in, "anon": {}, "gone": {"_auth_user_id": "999999"}}.items():
        old = DjangoSessionStore()
        old.update(data)
        old.create()
        keys[name] = old.session_key
    import_module("privacy.migrations.0005_sessions_by_user_one_export_at_a_time").move_sessions(apps, None)
    assert not Session.objects.exists()
    moved = dict(UserSession.objects.values_list("session_key", "user"))
    assert moved == {keys["alice"]: alice.pk, keys["anon"]: None, keys["gone"]: None}
    client = Client()
    client.cookies["sessionid"] = keys["alice"]
    assert client.get("/privacy/center/").status_code == 200  # still signed in
