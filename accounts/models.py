"""Users log in with their email address (one canonical key per address); a SignIn is one family of refresh tokens."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone

from accounts.display_names import validate_display_name
from accounts.email_identity import KEY_MAX_LENGTH, email_key, parse_email
from numfree.card_numbers import FreeTextCharField


class UserQuerySet(models.QuerySet["User"]):
    def by_email(self, email: str) -> UserQuerySet:
        """The account (zero or one) whose address is this one, however it is spelled."""
        return self.filter(email_key=email_key(email))


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_queryset(self) -> UserQuerySet:
        return UserQuerySet(self.model, using=self._db)

    def by_email(self, email: str) -> UserQuerySet:
        return self.get_queryset().by_email(email)

    def get_by_natural_key(self, email: str) -> User:
        return self.by_email(email).get()

    def create_user(self, email: str, password: str | None = None, **fields: object) -> User:
        """Raises ValidationError for an address accounts.email_identity refuses."""
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=parse_email(email).address, **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: object) -> User:
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        fields.setdefault("email_verified", True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A NumFree account. The email is the login; `email_key` is its canonical form, unique."""

    email = models.EmailField("email address", max_length=254, unique=True)
    # Derived from `email` on every save (accounts/email_identity.py); every lookup uses it.
    email_key = models.CharField(max_length=KEY_MAX_LENGTH, unique=True, editable=False)
    name = FreeTextCharField(max_length=150, blank=True, validators=[validate_display_name])
    email_verified = models.BooleanField(default=False)
    # An address the user asked to change to; it becomes `email` only once verified.
    pending_email = models.EmailField(max_length=254, blank=True)
    # An IANA zone name ("Europe/Paris") every time is shown in; "" until the
    # browser reports one (accounts/time_zones.py). Never kept in a cookie.
    time_zone = models.CharField(max_length=64, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    def __str__(self) -> str:
        return self.email

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.email_key = email_key(self.email)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "email" in update_fields:
            kwargs["update_fields"] = {*update_fields, "email_key"}
        super().save(*args, **kwargs)

    @property
    def mail_greeting_name(self) -> str:
        """The name to greet the user with in an email: only once their address is confirmed.

        Until then the name was typed by whoever signed up, who may not own the
        address, and mail to it must carry no text they chose.
        """
        return self.name if self.email_verified else ""

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
