"""The admin requires staff to have two-factor sign-in on and to have given a code in this session."""

from __future__ import annotations

import re

import pytest

from accounts.models import User
from tests.conftest import PASSWORD, make_user
from tests.twofactor.conftest import code, emails_to
from twofactor.models import Authenticator
from twofactor.testing import enable_two_factor, force_login_with_two_factor


@pytest.fixture
def root(db) -> User:
    return User.objects.create_superuser("root@example.com", PASSWORD)


def test_staff_without_two_factor_are_sent_to_turn_it_on_and_then_reach_the_admin(client, root):
    client.post("/admin/login/", {"username": "root@example.com", "password": PASSWORD, "next": "/admin/"})
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0] == "/account/two-factor/?next=%2Fadmin%2F"
    page = response.content.decode()
    assert "The admin needs two-factor sign-in" in page
    secret = re.search(r'data-secret="([A-Z2-7]+)"', page).group(1)
    done = client.post("/account/two-factor/", {"code": code(secret), "next": "/admin/"})
    assert 'href="/admin/"' in done.content.decode()
    assert client.get("/admin/").status_code == 200


def test_the_admin_login_asks_for_the_code_before_anything_else(client, root):
    secret = enable_two_factor(root)
    response = client.post("/admin/login/", {"username": "root@example.com", "password": PASSWORD, "next": "/admin/"})
    assert response["Location"] == "/login/two-factor/"
    assert client.get("/admin/")["Location"].startswith("/admin/login/")
    response = client.post("/login/two-factor/", {"code": code(secret)})
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_staff_session_that_did_not_give_a_code_is_not_let_in(client, root):
    enable_two_factor(root)
    client.force_login(root)
    assert client.get("/admin/").status_code == 302
    assert client.get("/admin/accounts/user/").status_code == 302


def test_staff_with_a_passed_code_use_the_admin(client, root):
    force_login_with_two_factor(client, root)
    assert client.get("/admin/accounts/user/").status_code == 200


def test_users_who_are_not_staff_still_get_the_admin_login(client, alice):
    force_login_with_two_factor(client, alice)
    assert client.get("/admin/")["Location"].startswith("/admin/login/")


def test_the_admin_never_shows_the_secret_and_a_superuser_can_turn_two_factor_off_for_a_locked_out_owner(
    client, root, alice
):
    secret = enable_two_factor(alice)
    force_login_with_two_factor(client, root)
    authenticator = Authenticator.objects.get(user=alice)
    page = client.get(f"/admin/twofactor/authenticator/{authenticator.pk}/change/").content.decode()
    assert "alice@example.com" in page and secret not in page
    response = client.post(f"/admin/twofactor/authenticator/{authenticator.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Authenticator.objects.filter(user=alice).exists()
    assert any("turned off" in message.body for message in emails_to("alice@example.com"))


def test_support_staff_cannot_turn_anyone_s_two_factor_off(client, alice):
    support = make_user("support@example.com")
    support.is_staff = True
    support.save()
    force_login_with_two_factor(client, support)
    enable_two_factor(alice)
    authenticator = Authenticator.objects.get(user=alice)
    response = client.post(f"/admin/twofactor/authenticator/{authenticator.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert Authenticator.objects.filter(user=alice).exists()
