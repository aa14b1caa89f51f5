"""The two-factor app's config."""

from __future__ import annotations

from django.apps import AppConfig


class TwoFactorConfig(AppConfig):
    name = "twofactor"
    verbose_name = "Two-factor sign-in"
    default_auto_field = "django.db.models.BigAutoField"
