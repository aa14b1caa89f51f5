"""What accounts holds about a person (the account and its API sign-ins), and how to export and erase it."""

from __future__ import annotations

from typing import Any

from accounts.models import SignIn, User
from privacy.export_schema import moment, obj, string
from privacy.registry import AppPersonalData, ExportPart, holds, register

SCHEMA = obj(
    {
        "email": string(),
        "name": string(),
        "email_verified": {"type": "boolean"},
        "pending_email": string(),
        "time_zone": string(),
        "date_joined": moment(),
        "last_login": moment(),
        "password": {"const": "stored only as a bcrypt hash; not exported"},
        "sign_ins": {
            "type": "array",
            "items": obj({"created_at": moment(), "revoked_at": moment(), "revoked_reason": string()}),
        },
    },
    title="Account information",
)


def _when(value: Any) -> str | None:
    return value.isoformat() if value else None


def export_account(user: User) -> ExportPart:
    sign_ins = [
        {"created_at": _when(s.created_at), "revoked_at": _when(s.revoked_at), "revoked_reason": s.revoked_reason}
        for s in SignIn.objects.filter(user=user).order_by("created_at")
    ]
    return ExportPart(
        category="account",
        data={
            "email": user.email,
            "name": user.name,
            "email_verified": user.email_verified,
            "pending_email": user.pending_email,
            "time_zone": user.time_zone,
            "date_joined": _when(user.date_joined),
            "last_login": _when(user.last_login),
            "password": "stored only as a bcrypt hash; not exported",
            "sign_ins": sign_ins,
        },
        schema=SCHEMA,
        summary=[
            f"Email address {user.email}" + (f", name {user.name}" if user.name else ""),
            "Password: stored only as a bcrypt hash",
            f"{len(sign_ins)} extension sign-ins",
        ],
    )


def erase_account(user: User) -> None:
    """The account row goes last; its sign-ins go with it."""
    SignIn.objects.filter(user=user).delete()
    User.objects.filter(pk=user.pk).delete()


register(
    AppPersonalData(
        app_label="accounts",
        category="account",
        models={
            "User": holds("user", "email", user_field="id"),
            "SignIn": holds("user", user_field="user"),
        },
        export=export_account,
        erase=erase_account,
        erase_order=100,
    )
)
