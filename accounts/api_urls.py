"""API URLs of accounts: tokens, logout, me."""

from __future__ import annotations

urlpatterns: list = []
