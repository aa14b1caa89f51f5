"""The export says whether two-factor sign-in is on and since when, never the secret or the hashes."""

from __future__ import annotations

import json

from jsonschema import Draft202012Validator

from privacy.registry import declaration_for
from twofactor.enrolment import _replace_recovery_codes
from twofactor.models import Authenticator, RecoveryCode
from twofactor.personal_data import SCHEMA, erase_two_factor, export_two_factor


def test_the_export_says_it_is_on_since_when_and_how_many_codes_are_left(alice, secret):
    _replace_recovery_codes(alice)
    part = export_two_factor(alice)
    confirmed = Authenticator.objects.get(user=alice).confirmed_at
    assert part.data["enabled"] is True
    assert part.data["enabled_since"] == confirmed.isoformat()
    assert part.data["recovery_codes_left"] == 10
    text = json.dumps(part.data) + " ".join(part.summary)
    assert secret not in text
    assert bytes(Authenticator.objects.get(user=alice).secret_sealed).decode() not in text
    for digest in RecoveryCode.objects.values_list("digest", flat=True):
        assert digest not in text


def test_the_export_says_off_for_accounts_without_it(alice):
    part = export_two_factor(alice)
    assert (part.data["enabled"], part.data["enabled_since"]) == (False, None)
    assert part.summary == ["Two-factor sign-in: off"]


def test_erasure_deletes_the_authenticator_and_the_recovery_codes(alice, bob, secret):
    _replace_recovery_codes(alice)
    erase_two_factor(alice)
    assert not Authenticator.objects.filter(user=alice).exists()
    assert not RecoveryCode.objects.filter(user=alice).exists()


def test_both_models_are_declared_as_personal_data_of_the_account():
    for model in (Authenticator, RecoveryCode):
        declaration = declaration_for(model)
        assert declaration.personal and declaration.user_field == "user"


def test_the_export_validates_against_its_published_schema(alice, secret):
    Draft202012Validator(SCHEMA).validate(export_two_factor(alice).data)
