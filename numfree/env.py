"""Strict readers for configuration from environment variables.

A bad value stops start-up with a message that names the variable; nothing
silently falls back to a default once a variable is set.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from django.core.checks.security.base import (
    SECRET_KEY_INSECURE_PREFIX,
    SECRET_KEY_MIN_LENGTH,
    SECRET_KEY_MIN_UNIQUE_CHARACTERS,
)
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_MAKE_A_KEY = "python -c 'import secrets; print(secrets.token_urlsafe(50))'"


def is_weak_key(key: str) -> bool:
    """Django's deploy check's rule for a signing key (security.W009, W025)."""
    return (
        len(key) < SECRET_KEY_MIN_LENGTH
        or len(set(key)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS
        or key.startswith(SECRET_KEY_INSECURE_PREFIX)
    )


class Env:
    """Reads typed values from a mapping (``os.environ`` by default)."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.environ = os.environ if environ is None else environ

    def raw(self, name: str) -> str | None:
        value = self.environ.get(name)
        if value is None or value.strip() == "":
            return None
        return value.strip()

    def is_set(self, name: str) -> bool:
        return self.raw(name) is not None

    def str(self, name: str, default: str = "") -> str:
        value = self.raw(name)
        return default if value is None else value

    def bool(self, name: str, default: bool) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise ImproperlyConfigured(f"{name} must be one of 1/0, true/false, yes/no, on/off; got {value!r}")

    def int(self, name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
        value = self.raw(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise ImproperlyConfigured(f"{name} must be a whole number; got {value!r}") from None
        if minimum is not None and number < minimum:
            raise ImproperlyConfigured(f"{name} must be at least {minimum}; got {number}")
        if maximum is not None and number > maximum:
            raise ImproperlyConfigured(f"{name} must be at most {maximum}; got {number}")
        return number

    def float(self, name: str, default: float, *, minimum: float | None = None) -> float:
        value = self.raw(name)
        if value is None:
            return default
        try:
            number = float(value)
        except ValueError:
            raise ImproperlyConfigured(f"{name} must be a number; got {value!r}") from None
        if minimum is not None and number < minimum:
            raise ImproperlyConfigured(f"{name} must be at least {minimum}; got {number}")
        return number

    def list(self, name: str, default: list[str] | None = None) -> list[str]:
        value = self.raw(name)
        if value is None:
            return list(default or [])
        return [item.strip() for item in value.split(",") if item.strip()]

    def url(self, name: str, default: str = "", *, schemes: tuple[str, ...] = ("http", "https")) -> str:
        value = self.raw(name)
        if value is None:
            return default
        scheme, sep, rest = value.partition("://")
        if not sep or scheme.lower() not in schemes or not rest or rest.startswith("/"):
            raise ImproperlyConfigured(
                f"{name} must be a URL starting with {' or '.join(s + '://' for s in schemes)}; got {value!r}"
            )
        return value.rstrip("/")

    def required(self, name: str, why: str) -> str:
        value = self.raw(name)
        if value is None:
            raise ImproperlyConfigured(f"{name} must be set {why}")
        return value

    def strong_key(self, name: str) -> str:
        """A signing key Django's deploy check would not call weak ("" when unset)."""
        key = self.str(name)
        if key:
            _refuse_weak(name, key)
        return key

    def strong_keys(self, name: str) -> list[str]:
        """Comma-separated signing keys, none of them weak by Django's deploy check."""
        keys = self.list(name)
        for index, key in enumerate(keys):
            _refuse_weak(f"{name} (key {index + 1} of {len(keys)})", key)
        return keys


def _refuse_weak(where: str, key: str) -> None:
    # The message names the variable and the rule, never the key.
    if is_weak_key(key):
        raise ImproperlyConfigured(
            f"{where} is too weak for production: Django's deploy check (security.W009) wants at least "
            f"{SECRET_KEY_MIN_LENGTH} characters, {SECRET_KEY_MIN_UNIQUE_CHARACTERS} of them different, and "
            f"no {SECRET_KEY_INSECURE_PREFIX!r} prefix. Make one with: {_MAKE_A_KEY}"
        )
