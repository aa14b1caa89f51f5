"""Closing the WebSocket connections of revoked sign-ins, on every process."""

from __future__ import annotations


def close_sockets(user_id: int, sign_in_ids: list[str] | None = None, *, disabled: bool = False) -> None:
    """Close the user's sockets opened with these sign-ins (all of them when None).

    Called after commit by whatever revoked the sign-ins (logout, refresh-token
    reuse, password change, account disabled or deleted).
    """
