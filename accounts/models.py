"""Users log in with their email address; a SignIn is one family of refresh tokens."""

from __future__ import annotations

import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from numfree.card_numbers import FreeTextCharField


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, email: str) -> User:
        return self.get(email__iexact=email)

    def create_user(self, email: str, password: str | None = None, **fields: object) -> User:
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).strip(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: object) -> User:
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        fields.setdefault("email_verified", True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A NumFree account. The email is the login (unique, case-insensitive)."""

    email = models.EmailField("email address", max_length=254, unique=True)
    name = FreeTextCharField(max_length=150, blank=True)
    email_verified = models.BooleanField(default=False)
    # An address the user asked to change to; it becomes `email` only once verified.
    pending_email = models.EmailField(max_length=254, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique")]

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return self.name or self.email


class SignInQuerySet(models.QuerySet["SignIn"]):
    def active(self) -> SignInQuerySet:
        return self.filter(revoked_at__isnull=True)


class SignIn(models.Model):
    """One sign-in of the API (a family of refresh tokens); access tokens carry its id."""

    REVOKED_LOGOUT = "logout"
    REVOKED_REUSE = "refresh_reuse"
    REVOKED_PASSWORD = "password_change"
    REVOKED_DISABLED = "account_disabled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sign_ins")
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=32, blank=True)

    objects = SignInQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self) -> str:
        return f"sign-in {self.id}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
