"""Account URLs: web pages (sign-up, login, ...) and the extension's API."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [
    path("api/", include("accounts.api_urls")),
]
