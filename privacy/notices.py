"""The dated notice of a new policy version, shown to signed-in users until they dismiss it."""

from __future__ import annotations

from django.utils import timezone

from privacy.models import PolicyNoticeDismissal, PolicyVersion


def pending_notice(user: object) -> PolicyVersion | None:
    """The current version, if it took effect after the user joined and they have not dismissed it."""
    if not getattr(user, "is_authenticated", False):
        return None
    current = PolicyVersion.objects.current()
    if current is None or current.effective_date <= timezone.localdate(user.date_joined):
        return None
    if PolicyNoticeDismissal.objects.filter(user=user, version=current).exists():
        return None
    return current


def dismiss(user: object) -> None:
    current = PolicyVersion.objects.current()
    if current is not None:
        PolicyNoticeDismissal.objects.get_or_create(user=user, version=current)
