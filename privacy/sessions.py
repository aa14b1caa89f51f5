"""The session engine (SESSION_ENGINE = "privacy.sessions"): Django's database sessions, each row tagged with its account.

Django's documented way to extend the database backend ("Extending
database-backed session engines"): the store writes `UserSession.user` from
the signed-in user id it already keeps, so a user's sessions are one indexed
query instead of decoding every session in the database. The cookie is the
same `sessionid` cookie; nothing else is stored.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.core.exceptions import ValidationError
from django.db import models

from privacy.models import UserSession

USER_KEY = "_auth_user_id"  # django.contrib.auth's SESSION_KEY


class SessionStore(DatabaseSessionStore):
    @classmethod
    def get_model_class(cls) -> type[models.Model]:
        return UserSession

    def create_model_instance(self, data: dict[str, Any]) -> UserSession:
        session = super().create_model_instance(data)
        session.user_id = user_id_of(data)
        return session


def user_id_of(data: dict[str, Any]) -> Any:
    """The signed-in user's id in a session's data, or None (signed out, or an id that is no id)."""
    try:
        return get_user_model()._meta.pk.to_python(data.get(USER_KEY))
    except ValidationError:
        return None


def sessions_of(user: Any) -> models.QuerySet[UserSession]:
    return UserSession.objects.filter(user=user)
