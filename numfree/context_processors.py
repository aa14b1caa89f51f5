"""Template context every page needs."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, Any]:
    return {"DEBUG": settings.DEBUG, "PUBLIC_URL": settings.PUBLIC_URL}
