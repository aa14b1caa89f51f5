"""An account's authenticator (TOTP secret, replay and failure counters) and its recovery codes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuthenticatorQuerySet(models.QuerySet["Authenticator"]):
    def enabled(self) -> AuthenticatorQuerySet:
        return self.filter(confirmed_at__isnull=False)


class Authenticator(models.Model):
    """The authenticator app of one account. Two-factor sign-in is on once `confirmed_at` is set.

    The secret is stored sealed (twofactor/keys.py) with a key kept outside
    the database. `last_step` is the TOTP time step of the last code accepted:
    only a later step is accepted, so a code cannot be used twice.
    `failures` counts code attempts since `failures_since`; both change only
    through conditional UPDATEs (twofactor/verification.py).
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="authenticator")
    secret_sealed = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_step = models.BigIntegerField(default=0)
    failures = models.PositiveIntegerField(default=0)
    failures_since = models.DateTimeField(default=timezone.now)

    objects = AuthenticatorQuerySet.as_manager()

    def __str__(self) -> str:
        return f"authenticator of user {self.user_id}"

    @property
    def is_enabled(self) -> bool:
        return self.confirmed_at is not None


class RecoveryCode(models.Model):
    """One single-use recovery code, kept only as a keyed hash (twofactor/keys.py)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_codes")
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "digest"], name="twofactor_recovery_code_unique")]

    def __str__(self) -> str:
        return f"recovery code of user {self.user_id}"
