"""Periodic housekeeping of the API's sign-ins and refresh tokens."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts.models import SignIn
from numfree.outbox import periodic

_BATCH = 500


@periodic("accounts.flush_expired_tokens", every=timedelta(hours=6))
def flush_expired_tokens(payload: dict) -> None:
    """Drop refresh tokens past their expiry (simplejwt's own command), then the
    sign-ins that have no usable refresh token left."""
    call_command("flushexpiredtokens")
    cutoff = timezone.now() - settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"]
    # A refresh token's jti starts with its sign-in's id (accounts/tokens.py).
    candidates = SignIn.objects.filter(created_at__lt=cutoff).values_list("pk", flat=True)
    dead = []
    for pk in candidates.iterator(chunk_size=_BATCH):
        if not OutstandingToken.objects.filter(jti__startswith=f"{pk.hex}.").exists():
            dead.append(pk)
        if len(dead) == _BATCH:
            SignIn.objects.filter(pk__in=dead).delete()
            dead = []
    SignIn.objects.filter(pk__in=dead).delete()
