"""Expired refresh tokens and dead sign-ins do not pile up."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts.models import SignIn
from accounts.tokens import issue_pair
from numfree.outbox.testing import run_pending


@pytest.mark.django_db
def test_the_periodic_job_removes_expired_tokens_and_dead_sign_ins_but_keeps_live_ones(alice, bob):
    with time_machine.travel(timezone.now() - timedelta(days=40), tick=False):
        issue_pair(alice)
    issue_pair(bob)
    assert SignIn.objects.count() == 2

    run_pending(periodic=True)

    assert list(SignIn.objects.values_list("user__email", flat=True)) == ["bob@example.com"]
    assert not OutstandingToken.objects.filter(user=alice).exists()
    assert OutstandingToken.objects.filter(user=bob).exists()
