"""Template tags of the numbers pages."""

from __future__ import annotations

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def simulation_enabled() -> bool:
    """The simulation panel exists only in embedded mode (DEBUG=1)."""
    return bool(settings.DEBUG)
