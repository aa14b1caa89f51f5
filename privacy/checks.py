"""`check --deploy` fails when this deployment's configuration contradicts the published policy."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import get_hashers
from django.core import checks


def policy_matches_configuration(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    from privacy.policy import contradictions, rendered_policy_text

    text = rendered_policy_text()
    errors = [
        checks.Error(f"The privacy policy page would be untrue: {problem}.", id="privacy.E001")
        for problem in contradictions(text)
    ]
    if not get_hashers()[0].algorithm.startswith("bcrypt"):
        errors.append(
            checks.Error("The policy promises bcrypt: put BCryptSHA256PasswordHasher first.", id="privacy.E002")
        )
    if "privacy.middleware.PrivacyMiddleware" not in settings.MIDDLEWARE:
        errors.append(
            checks.Error("Usage data must honour DNT/GPC and objections: add PrivacyMiddleware.", id="privacy.E003")
        )
    return errors


def register() -> None:
    checks.register(policy_matches_configuration, checks.Tags.security, deploy=True)
