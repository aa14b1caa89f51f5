"""The privacy center's Access section: what is held in each category, how much, what for, how long, and how recent.

Built from the registry's declarations, one COUNT and one short query per
kind of row on its user index, so the page costs the same with 10 call logs
or 100,000. The page shows counts and the newest date, never the rows
themselves: the full copy of everything is the export, built by the worker.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from django.apps import apps
from django.conf import settings
from django.db import models

from privacy.registry import CATEGORIES, registered

if TYPE_CHECKING:
    from accounts.models import User

# Models filed under another category than their app's.
_CATEGORY_OF_MODEL = {"privacy.UserSession": "cookies"}
# Plainer names than the models' own, where those are technical.
_LABELS = {
    "token_blacklist.OutstandingToken": "extension refresh tokens issued",
    "token_blacklist.BlacklistedToken": "extension refresh tokens revoked",
    "accounts.SignIn": "extension sign-ins",
    "telephony.SmsLog": "text message log entries (who and when, never what)",
    "telephony.Forwarding": "forwarding settings",
    "admin.LogEntry": "admin log entries",
    "privacy.StaffAccess": "times NumFree staff opened your data",
    "privacy.DataSubjectRequest": "privacy requests",
    "privacy.ExportArchive": "data exports",
}


def _notes() -> dict[str, tuple[str, str]]:
    """Per category: what it is for, and how long it is kept (the policy's words, this deployment's numbers)."""
    days = settings.RETENTION_DAYS
    session_days = max(1, settings.SESSION_COOKIE_AGE // 86400)
    return {
        "account": (
            "Signing you in, billing and support, and service and account notices.",
            "As long as your account is active. Your password is stored only as a bcrypt hash.",
        ),
        "phone": (
            "Routing your calls, delivering your texts to your email and managing your number.",
            f"Call and SMS logs and voicemails: {days} days. Your number and forwarding settings: as long as "
            "your account is active. What texts say is never stored.",
        ),
        "payment": (
            "Payment processing, by Stripe. We never store card numbers.",
            "As long as your account is active.",
        ),
        "usage": (
            "Internal analytics to improve the service (no third-party trackers), your privacy choices and requests, "
            "and who at NumFree opened your data.",
            f"Page views: {days} days. Your choices, requests and the staff access log: as long as your account is active.",
        ),
        "cookies": (
            "Keeping you signed in (sessionid) and protecting forms (csrftoken). No other cookies.",
            f"A session ends when you sign out, or after {session_days} days.",
        ),
        "other": ("Records of changes staff made in the admin.", "As long as your account is active."),
    }


@dataclass
class Holding:
    """One kind of row held about the user: "call logs", 50,000, the newest from this morning."""

    label: str
    count: int
    newest: datetime | None = None


@dataclass
class Section:
    key: str
    title: str
    purpose: str
    kept: str
    holdings: list[Holding] = field(default_factory=list)


def overview(user: User) -> list[Section]:
    notes = _notes()
    sections = {key: Section(key, title, *notes[key]) for key, title in CATEGORIES.items()}
    for entry in registered():
        for name, declaration in entry.models.items():
            if not (declaration.personal and declaration.user_field) or declaration.user_field in ("id", "pk"):
                continue  # the account row itself is shown as such
            model = apps.get_model(entry.app_label, name)
            holding = _holding(model, declaration.user_field, user)
            category = _CATEGORY_OF_MODEL.get(model._meta.label, entry.category)
            sections[category].holdings.append(holding)
    return [section for section in sections.values() if section.holdings or section.key != "other"]


def _holding(model: type[models.Model], user_field: str, user: User) -> Holding:
    rows = model._default_manager.filter(**{user_field: user.pk})
    label = _LABELS.get(model._meta.label, str(model._meta.verbose_name_plural))
    count = rows.count()
    moment = _created_at_field(model)
    if not count or moment is None:
        return Holding(label, count)
    newest = rows.order_by(f"-{moment.name}").values_list(moment.name, flat=True).first()
    return Holding(label, count, newest)


def _created_at_field(model: type[models.Model]) -> models.DateTimeField | None:
    """The time the row was made (a date-time field defaulting to now), if the model has one."""
    for candidate in model._meta.concrete_fields:
        if isinstance(candidate, models.DateTimeField) and (
            candidate.auto_now_add or getattr(candidate.default, "__name__", "") == "now"
        ):
            return candidate
    return None
