"""What two-factor sign-in holds about a person, and how it is exported and erased.

The export says whether it is on and since when, never the secret or the
recovery codes' hashes.
"""

from __future__ import annotations

from accounts.models import User
from privacy.export_schema import moment, obj
from privacy.registry import AppPersonalData, ExportPart, holds, register
from twofactor.models import Authenticator, RecoveryCode

NOT_EXPORTED = "kept encrypted (the secret) or hashed (recovery codes); not exported"

SCHEMA = obj(
    {
        "enabled": {"type": "boolean"},
        "enabled_since": moment(),
        "recovery_codes_left": {"type": "integer", "minimum": 0},
        "secret_and_recovery_codes": {"const": NOT_EXPORTED},
    },
    title="Two-factor sign-in",
)


def export_two_factor(user: User) -> ExportPart:
    authenticator = Authenticator.objects.enabled().filter(user=user).first()
    codes_left = RecoveryCode.objects.filter(user=user).count() if authenticator else 0
    since = authenticator.confirmed_at if authenticator else None
    return ExportPart(
        category="account",
        data={
            "enabled": authenticator is not None,
            "enabled_since": since.isoformat() if since else None,
            "recovery_codes_left": codes_left,
            "secret_and_recovery_codes": NOT_EXPORTED,
        },
        schema=SCHEMA,
        summary=[
            f"Two-factor sign-in: on since {since:%Y-%m-%d}, {codes_left} recovery codes left"
            if since
            else "Two-factor sign-in: off"
        ],
    )


def erase_two_factor(user: User) -> None:
    RecoveryCode.objects.filter(user=user).delete()
    Authenticator.objects.filter(user=user).delete()


register(
    AppPersonalData(
        app_label="twofactor",
        category="account",
        models={
            "Authenticator": holds("user", user_field="user"),
            "RecoveryCode": holds("user", user_field="user"),
        },
        export=export_two_factor,
        erase=erase_two_factor,
        erase_order=90,
    )
)
