"""The personal data registry: each app declares what it holds and how to export, erase and purge it.

In the spirit of pretix's data shredders: an app's `<app>/personal_data.py`
(imported by `autodiscover()` when the privacy app is ready) calls `register()`
with one `AppPersonalData` describing every one of its models. privacy/ asks
every registered app through these hooks and never touches another app's
models itself.

    from privacy.registry import AppPersonalData, ExportPart, holds, no_personal_data, register

    register(AppPersonalData(
        app_label="telephony",
        category="phone",
        models={
            "CallLog": holds("user", "phone", user_field="user"),
            "Rate": no_personal_data("prices per country"),
        },
        export=export_telephony,            # (user) -> ExportPart
        erase=erase_telephony,              # (user) -> [ProviderDeletion(...), ...] or None
        purge_older_than=purge_telephony,   # (cutoff) -> {"call logs": 12, ...}
    ))
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from importlib import import_module
from importlib.util import find_spec
from typing import TYPE_CHECKING, Any

from django.apps import apps

if TYPE_CHECKING:
    from accounts.models import User

# What a personal-data row is found by. "user": a link to the account;
# "email", "phone", "ip": the value itself (found even with no account).
KEYS = ("user", "email", "phone", "ip")

# The categories of the policy's "Data We Collect", in its order.
CATEGORIES = {
    "account": "Account information",
    "phone": "Phone number data",
    "payment": "Payment data",
    "usage": "Usage data",
    "cookies": "Cookies",
    "other": "Other records",
}


@dataclass(frozen=True)
class ModelDeclaration:
    personal: bool
    keyed_by: tuple[str, ...] = ()
    # The field path from a row to its user's id (e.g. "user", "number__owner"); ""
    # when no field leads there (a session). Used to find whose data staff opened.
    user_field: str = ""
    reason: str = ""


def holds(*keyed_by: str, user_field: str = "", reason: str = "") -> ModelDeclaration:
    """The model holds personal data found by these keys."""
    unknown = set(keyed_by) - set(KEYS)
    if not keyed_by or unknown:
        raise ValueError(f"keyed_by must be some of {KEYS}, got {keyed_by!r}")
    return ModelDeclaration(personal=True, keyed_by=tuple(keyed_by), user_field=user_field, reason=reason)


def no_personal_data(reason: str) -> ModelDeclaration:
    """The model holds nothing about a person; `reason` says why (it is read in review)."""
    if not reason:
        raise ValueError("say why the model holds no personal data")
    return ModelDeclaration(personal=False, reason=reason)


@dataclass
class ExportPart:
    """One app's contribution to a user's export and access page."""

    category: str
    data: dict[str, Any]
    # JSON Schema (draft 2020-12) of `data`; shipped in the archive and validated in tests.
    schema: dict[str, Any]
    # Files for the archive: name inside the app's folder -> bytes.
    files: dict[str, bytes] = field(default_factory=dict)
    # One line per kind of thing held, for the access page ("3 call log entries").
    summary: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ProviderDeletion:
    """A deletion at a provider that an eraser leaves to the worker, after its local erasure commits.

    `job` is an outbox kind registered with `privacy.erasure.provider_deletion_job`
    (idempotent, retried for 30 days); `payload` holds only the provider's ids.
    """

    provider: str  # "twilio", "stripe": a key of PROVIDERS
    job: str
    payload: dict[str, Any]

    def __post_init__(self) -> None:
        if self.provider not in PROVIDERS:
            raise ValueError(f"provider must be one of {list(PROVIDERS)}")


# The providers a deletion can be pending at, as support and users read them.
PROVIDERS = {"twilio": "Twilio", "stripe": "Stripe"}


@dataclass
class AppPersonalData:
    app_label: str
    category: str
    # Model name (as in the app's models.py) -> declaration. Every model of the app.
    models: dict[str, ModelDeclaration]
    export: Callable[[User], ExportPart] | None = None
    # Erases the user's rows and files here, in one transaction, without calling
    # any provider; returns what must still be deleted at providers (or None).
    erase: Callable[[User], Iterable[ProviderDeletion] | None] | None = None
    # Deletes rows older than the cutoff that the retention period covers, in
    # batches; returns how many of each kind went (or would go, when dry_run).
    purge_older_than: Callable[[datetime, bool], dict[str, int]] | None = None
    # Erasers run in ascending order; the account itself (accounts) goes last.
    erase_order: int = 50

    def __post_init__(self) -> None:
        if self.category not in CATEGORIES:
            raise ValueError(f"category must be one of {list(CATEGORIES)}")
        holds_any = any(decl.personal for decl in self.models.values())
        if holds_any and (self.export is None or self.erase is None):
            raise ValueError(f"{self.app_label}: an app holding personal data needs export and erase")


_registry: dict[str, AppPersonalData] = {}


def register(entry: AppPersonalData) -> AppPersonalData:
    if entry.app_label in _registry:
        raise ValueError(f"{entry.app_label} registered its personal data twice")
    _registry[entry.app_label] = entry
    return entry


def registered() -> list[AppPersonalData]:
    """Every registered app, in erase order (the account last)."""
    return sorted(_registry.values(), key=lambda entry: (entry.erase_order, entry.app_label))


def declaration_for(model: type) -> ModelDeclaration | None:
    entry = _registry.get(model._meta.app_label)
    if entry is None:
        return None
    return entry.models.get(model.__name__)


def undeclared_models() -> list[str]:
    """Installed models nobody declared: the coverage test fails on any."""
    missing = []
    for model in apps.get_models(include_auto_created=True):
        if model._meta.auto_created:
            continue  # many-to-many through tables belong to the model that declares the field
        if declaration_for(model) is None:
            missing.append(model._meta.label)
    return sorted(missing)


def autodiscover() -> None:
    """Import `<app>.personal_data` of every installed app that has one."""
    for config in apps.get_app_configs():
        module = f"{config.name}.personal_data"
        if find_spec(module) is not None:
            import_module(module)
