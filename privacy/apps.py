"""Privacy: policy pages, privacy center, data-subject requests, retention, usage data."""

from __future__ import annotations

from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "privacy"

    def ready(self) -> None:
        from privacy import checks, registry

        registry.autodiscover()
        checks.register()
