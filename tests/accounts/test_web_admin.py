"""The admin for support staff: find users by email, view without changing."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from accounts.models import SignIn, User
from tests.conftest import PASSWORD, make_user
from twofactor.testing import force_login_with_two_factor


@pytest.fixture
def support(db) -> User:
    member = make_user("support@example.com", name="Sam Support")
    member.is_staff = True
    member.save()
    member.groups.add(Group.objects.get(name="Support"))
    return member


@pytest.fixture
def support_client(client, support):  # type: ignore[no-untyped-def]
    force_login_with_two_factor(client, support)  # the admin needs two-factor sign-in
    return client


@pytest.fixture
def superuser(db) -> User:
    return User.objects.create_superuser("root@example.com", PASSWORD)


@pytest.fixture
def superuser_client(client, superuser):  # type: ignore[no-untyped-def]
    force_login_with_two_factor(client, superuser)
    return client


def change_url(user: User) -> str:
    return f"/admin/accounts/user/{user.pk}/change/"


def test_the_support_group_may_view_users_but_change_nothing(db):
    group = Group.objects.get(name="Support")
    permissions = {(p.content_type.app_label, p.codename) for p in group.permissions.all()}
    assert ("accounts", "view_user") in permissions
    assert all(codename.startswith("view_") for _app, codename in permissions), permissions


def test_support_staff_find_a_user_by_email(support_client, alice, bob):
    response = support_client.get("/admin/accounts/user/", {"q": "ALICE@"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "alice@example.com" in page
    assert "bob@example.com" not in page


def test_the_user_list_shows_email_name_verified_active_and_joined(support_client, alice):
    response = support_client.get("/admin/accounts/user/")
    columns = [header["text"] for header in response.context["result_headers"]]
    assert [column.lower() for column in columns] == [
        "email address",
        "name",
        "email verified",
        "is active",
        "date joined",
    ]
    assert "Alice" in response.content.decode()


def test_support_staff_open_a_user_read_only(support_client, alice):
    response = support_client.get(change_url(alice))
    assert response.status_code == 200
    page = response.content.decode()
    assert "alice@example.com" in page
    assert 'name="_save"' not in page
    assert 'name="email"' not in page
    assert alice.password not in page  # the hash widget shows a masked summary only
    assert "bcrypt_sha256" in page


def test_support_staff_cannot_change_delete_or_add_users(support_client, alice):
    response = support_client.post(
        change_url(alice),
        {"email": "mallory@example.com", "name": "Mallory", "is_active": "on", "date_joined_0": "2030-01-01"},
    )
    assert response.status_code == 403
    alice.refresh_from_db()
    assert (alice.email, alice.name) == ("alice@example.com", "Alice")
    assert support_client.post(f"/admin/accounts/user/{alice.pk}/delete/", {"post": "yes"}).status_code == 403
    assert User.objects.filter(pk=alice.pk).exists()
    assert support_client.get("/admin/accounts/user/add/").status_code == 403
    assert support_client.get(f"/admin/accounts/user/{alice.pk}/password/").status_code == 403


def test_support_staff_see_users_numbers_logs_and_plans_and_nothing_else_in_the_admin(support_client):
    index = support_client.get("/admin/")
    assert sorted(model["object_name"] for app in index.context["app_list"] for model in app["models"]) == [
        "BillingAccount",
        "CallLog",
        "PhoneNumber",
        "SmsLog",
        "User",
    ]
    assert support_client.get("/admin/auth/group/").status_code == 403


def test_users_who_are_not_staff_are_sent_to_the_admin_login(client, alice):
    client.force_login(alice)
    assert client.get("/admin/accounts/user/")["Location"].startswith("/admin/login/")
    assert client.get("/admin/accounts/user/").status_code == 302


def test_a_superuser_adds_a_user_with_an_email_login(superuser_client):
    response = superuser_client.post(
        "/admin/accounts/user/add/",
        {
            "email": "dora@example.com",
            "name": "Dora",
            "usable_password": "true",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert response.status_code == 302
    dora = User.objects.get(email="dora@example.com")
    assert dora.check_password(PASSWORD)
    assert dora.password.startswith("bcrypt_sha256$")


def test_setting_a_password_in_the_admin_ends_that_users_sign_ins(superuser_client, alice):
    sign_in = SignIn.objects.create(user=alice)
    new = "set by support 2030!"
    response = superuser_client.post(
        f"/admin/accounts/user/{alice.pk}/password/", {"password1": new, "password2": new, "usable_password": "true"}
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password(new)
    sign_in.refresh_from_db()
    assert sign_in.revoked_reason == SignIn.REVOKED_PASSWORD


def test_disabling_a_user_in_the_admin_ends_their_sign_ins_and_web_sessions(superuser_client, alice):
    alices_browser = Client()
    alices_browser.force_login(alice)
    sign_in = SignIn.objects.create(user=alice)
    # An unticked checkbox is absent from the form: is_active goes off.
    data = {"email": alice.email, "name": alice.name, "email_verified": "on"}
    response = superuser_client.post(change_url(alice), data)
    assert response.status_code == 302
    alice.refresh_from_db()
    assert not alice.is_active
    sign_in.refresh_from_db()
    assert sign_in.revoked_reason == SignIn.REVOKED_DISABLED
    assert alices_browser.get("/dashboard/").status_code == 302


def test_staff_change_their_own_password_on_the_account_page(superuser_client):
    response = superuser_client.get("/admin/password_change/")
    assert response.status_code == 302
    assert response["Location"] == "/account/password/"


def test_support_staff_see_a_users_number_plan_and_logs_read_only(support_client, alice):
    for url in (
        "/admin/telephony/phonenumber/",
        "/admin/telephony/calllog/",
        "/admin/telephony/smslog/",
        "/admin/billing/billingaccount/",
    ):
        assert support_client.get(url).status_code == 200, url
    assert support_client.get("/admin/telephony/phonenumber/add/").status_code == 403
