"""The personal data registry: every installed model is declared, and declarations are complete."""

from __future__ import annotations

import pytest
from django.apps import apps

from privacy.registry import AppPersonalData, holds, no_personal_data, registered, undeclared_models


def test_every_installed_model_declares_whether_it_holds_personal_data():
    assert undeclared_models() == []


def test_contrib_and_third_party_models_are_declared_too():
    declared = {f"{entry.app_label}.{name}" for entry in registered() for name in entry.models}
    for label in (
        "admin.LogEntry",
        "sessions.Session",
        "auth.Group",
        "auth.Permission",
        "contenttypes.ContentType",
        "token_blacklist.OutstandingToken",
        "token_blacklist.BlacklistedToken",
    ):
        assert label in declared


def test_a_declared_model_that_does_not_exist_is_caught():
    for entry in registered():
        for name in entry.models:
            assert apps.get_model(entry.app_label, name) is not None


def test_every_app_holding_personal_data_can_export_and_erase_it():
    for entry in registered():
        if any(decl.personal for decl in entry.models.values()):
            assert entry.export is not None and entry.erase is not None, entry.app_label


def test_an_app_cannot_declare_personal_data_without_an_eraser():
    with pytest.raises(ValueError, match="needs export and erase"):
        AppPersonalData(app_label="x", category="other", models={"M": holds("email")}, export=lambda user: None)


def test_a_model_without_personal_data_must_say_why():
    with pytest.raises(ValueError):
        no_personal_data("")


def test_personal_data_is_keyed_by_user_email_phone_or_ip_only():
    with pytest.raises(ValueError):
        holds("favourite_colour")
