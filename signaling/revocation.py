"""Closing the WebSocket connections of revoked sign-ins, on every process."""

from __future__ import annotations

from signaling.notify import publish_to_user


def close_sockets(user_id: int, sign_in_ids: list[str] | None = None, *, disabled: bool = False) -> None:
    """Close the user's sockets opened with these sign-ins (all of them when None).

    Called after commit by whatever revoked the sign-ins (logout, refresh-token
    reuse, password change, account disabled or deleted). Sockets close with
    4403 when the account is disabled, else 4401. A revoked sign-in can't
    reconnect either: the consumer checks the SignIn row on every auth.
    """
    publish_to_user(
        user_id,
        {
            "type": "signal.revoke",
            "sign_in_ids": None if sign_in_ids is None else [str(s) for s in sign_in_ids],
            "disabled": disabled,
        },
    )
