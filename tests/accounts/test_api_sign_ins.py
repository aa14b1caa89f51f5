"""Revoking sign-ins: what the password and disable flows call, and what it leaves alone."""

from __future__ import annotations

import pytest
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts.models import SignIn
from accounts.sign_ins import revoke, revoke_all
from accounts.tokens import issue_pair

pytestmark = pytest.mark.django_db


def test_revoke_all_blacklists_every_outstanding_refresh_token_of_the_user_and_no_one_elses(alice, bob):
    issue_pair(alice)
    issue_pair(alice)
    bobs = issue_pair(bob)

    ended = revoke_all(alice, SignIn.REVOKED_PASSWORD)

    assert len(ended) == 2
    assert set(SignIn.objects.filter(user=alice).values_list("revoked_reason", flat=True)) == {"password_change"}
    assert not OutstandingToken.objects.filter(user=alice, blacklistedtoken__isnull=True).exists()
    assert OutstandingToken.objects.filter(user=bob, blacklistedtoken__isnull=True).count() == 1
    assert not bobs.sign_in.is_revoked


def test_revoke_all_leaves_already_ended_sign_ins_as_they_were(alice):
    first = issue_pair(alice).sign_in
    revoke(first, SignIn.REVOKED_LOGOUT)

    assert revoke_all(alice, SignIn.REVOKED_DISABLED) == []
    first.refresh_from_db()
    assert first.revoked_reason == SignIn.REVOKED_LOGOUT


def test_revoking_twice_reports_that_it_had_already_ended(alice):
    sign_in = issue_pair(alice).sign_in
    assert revoke(sign_in, SignIn.REVOKED_LOGOUT) is True
    assert revoke(sign_in, SignIn.REVOKED_REUSE) is False
    sign_in.refresh_from_db()
    assert sign_in.revoked_reason == SignIn.REVOKED_LOGOUT


def test_sockets_are_told_only_once_the_revocation_is_committed(alice, django_capture_on_commit_callbacks):
    issue_pair(alice)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        revoke_all(alice, SignIn.REVOKED_PASSWORD)
    # One socket-closing callback, waiting for the commit (none for an empty revocation).
    assert len(callbacks) == 1
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        revoke_all(alice, SignIn.REVOKED_PASSWORD)
    assert callbacks == []
