"""Every admin page that shows a user's personal data writes an audit row: a crawl of every registered ModelAdmin.

Alice has one row in every model with an admin that the registry declares as
someone's personal data. A superuser (who can see everything) opens each
admin's list, its search results, the change, history and delete pages of
Alice's row, and for accounts the password page. Any page that shows Alice's
email address or links to one of her rows must leave an audit row about her.
A personal-data admin added later without a seed here fails the first test.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from privacy.models import DataSubjectRequest, PageView, StaffAccess
from privacy.registry import declaration_for
from twofactor.testing import enable_two_factor, force_login_with_two_factor

pytestmark = pytest.mark.django_db


def _outstanding_token(alice: Any, jti: str = "crawl-jti-1") -> models.Model:
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

    return OutstandingToken.objects.create(
        user=alice, jti=jti, token="not-a-real-token", expires_at=timezone.now() + timedelta(days=1)
    )


def _blacklisted_token(alice: Any) -> models.Model:
    from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

    return BlacklistedToken.objects.create(token=_outstanding_token(alice, "crawl-jti-2"))


def _authenticator(alice: Any) -> models.Model:
    from twofactor.models import Authenticator

    enable_two_factor(alice)
    return Authenticator.objects.get(user=alice)


def _telephony(name: str) -> Any:
    from django.apps import apps

    return apps.get_model("telephony", name)


def _billing_account(alice: Any) -> models.Model:
    from billing.models import BillingAccount

    return BillingAccount.objects.create(user=alice, plan="monthly", status="active", stripe_customer_id="cus_crawl")


# model label -> makes one row of Alice's personal data
SEEDS: dict[str, Callable[[Any], models.Model]] = {
    "accounts.User": lambda alice: alice,
    "privacy.DataSubjectRequest": lambda alice: DataSubjectRequest.objects.create(
        kind="access", user=alice, requester_email=alice.email
    ),
    "privacy.StaffAccess": lambda alice: StaffAccess.objects.create(
        staff=None, staff_label="someone", subject=alice, what="seeded"
    ),
    "privacy.PageView": lambda alice: PageView.objects.create(
        user=alice, ip="198.51.100.7", browser="Firefox", path="/"
    ),
    "token_blacklist.OutstandingToken": _outstanding_token,
    "token_blacklist.BlacklistedToken": _blacklisted_token,
    "twofactor.Authenticator": _authenticator,
    "telephony.PhoneNumber": lambda alice: _telephony("PhoneNumber").objects.create(
        user=alice, e164="+14155550142", twilio_sid="PN" + "a" * 32, country="US"
    ),
    "telephony.CallLog": lambda alice: _telephony("CallLog").objects.create(
        user=alice, kind="phone", direction="in", external_id="CA" + "b" * 32, peer_number="+14155550143"
    ),
    "telephony.SmsLog": lambda alice: _telephony("SmsLog").objects.create(
        user=alice,
        direction="in",
        message_sid="SM" + "c" * 32,
        peer_number="+14155550144",
        our_number="+14155550142",
        status="received",
    ),
    "billing.BillingAccount": lambda alice: _billing_account(alice),
}


def _personal_admins() -> list[type[models.Model]]:
    return [
        model
        for model in admin.site._registry
        if (declaration := declaration_for(model)) is not None and declaration.personal and declaration.user_field
    ]


def test_every_admin_of_personal_data_has_a_seed_row_in_this_crawl():
    missing = sorted(model._meta.label for model in _personal_admins() if model._meta.label not in SEEDS)
    assert missing == [], f"add a seed for {missing} to SEEDS so the crawl opens their admin pages"


def _url(model: type[models.Model], view: str, *args: Any) -> str | None:
    try:
        return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)
    except NoReverseMatch:
        return None


def _pages(model: type[models.Model], model_admin: admin.ModelAdmin, row: models.Model | None) -> list[str]:
    changelist = _url(model, "changelist")
    pages = [changelist]
    if model_admin.search_fields:
        pages.append(f"{changelist}?q=alice")
    if row is not None:
        pages += [_url(model, view, row.pk) for view in ("change", "history", "delete")]
    if row is not None and isinstance(model_admin, UserAdmin):
        # django.contrib.auth's UserAdmin names its password page after auth.User, whatever the user model.
        pages.append(reverse("admin:auth_user_password_change", args=[row.pk]))
    return [page for page in pages if page]


def test_every_admin_page_that_shows_alices_data_records_an_access_to_it(client, superuser, alice):
    rows = {label: seed(alice) for label, seed in SEEDS.items()}
    force_login_with_two_factor(client, superuser)
    alice_links = {
        _url(type(row), "change", row.pk) for row in rows.values() if _url(type(row), "change", row.pk) is not None
    }
    opened, showed = [], []
    for model, model_admin in admin.site._registry.items():
        for page in _pages(model, model_admin, rows.get(model._meta.label)):
            StaffAccess.objects.filter(staff=superuser).delete()
            response = client.get(page)
            if response.status_code != 200:
                continue
            opened.append(page)
            html = response.content.decode()
            if alice.email in html or any(f'href="{link}"' in html for link in alice_links):
                showed.append(page)
                assert StaffAccess.objects.filter(staff=superuser, subject=alice).exists(), (
                    f"{page} shows Alice's data and wrote no audit row"
                )
    # The crawl saw what it is meant to: lists, searches, change and password pages with her data.
    assert "/admin/accounts/user/?q=alice" in showed
    assert f"/admin/accounts/user/{alice.pk}/password/" in showed
    for label in ("token_blacklist.OutstandingToken", "privacy.DataSubjectRequest", "twofactor.Authenticator"):
        row = rows[label]
        assert _url(type(row), "change", row.pk) in showed
    assert len(opened) >= 3 * len(admin.site._registry)
