"""The closed list of error codes NumFree answers with, in the API and on pages.

Every JSON error is {"code": ..., "message": ...} with a code from ERROR_CODES;
docs/errors.md lists them. Apps add their codes here, in one place.
"""

from __future__ import annotations

ERROR_CODES: dict[str, str] = {
    # Generic
    "invalid": "The request was not valid; see the message for what to fix.",
    "parse_error": "The request body was not valid JSON.",
    "not_found": "There is nothing here, or it is not yours.",
    "method_not_allowed": "This URL does not accept that method.",
    "unsupported_media_type": "Send JSON (Content-Type: application/json).",
    "not_acceptable": "This endpoint only answers JSON.",
    "permission_denied": "You may not do this.",
    "rate_limited": "Too many requests; wait for Retry-After seconds.",
    "service_unavailable": "A service NumFree depends on is down; try again shortly.",
    "server_error": "Something went wrong on our side.",
    # Authentication
    "not_authenticated": "Sign in first: send an access token as 'Authorization: Bearer <token>'.",
    "invalid_credentials": "Email or password is wrong.",
    "email_unverified": "Confirm your email address first (see the email we sent you).",
    "account_disabled": "This account is disabled.",
    "token_invalid": "The token is malformed, has a bad signature or is the wrong kind of token.",
    "token_expired": "The token has expired; refresh it.",
    "token_revoked": "This sign-in was ended (logout, password change or a reused refresh token); sign in again.",
    "refresh_race": "This refresh token was just used by another request; use the tokens that request got.",
    "two_factor_required": "Two-factor sign-in is on for this account: send the code from the authenticator app as otp.",
    "two_factor_invalid": "That two-factor code is wrong, expired or was already used; send the code the app shows now.",
    # Numbers and telephony
    "signature_invalid": "The X-Twilio-Signature header is missing or does not match this request.",
    "plan_required": "Holding a number needs an active plan.",
    "number_limit": "This account already holds a number; release it first.",
    "number_unavailable": "That number was just taken; search again and pick another.",
    "no_number": "Get a NumFree number first.",
    "telephony_unavailable": "The phone network provider did not answer or refused; try again shortly.",
    "phone_code_invalid": "That code is wrong or has expired; ask for a new one.",
    "sms_to_invalid": "A text cannot be sent to that number; give it in E.164, like +14155550123.",
    "sms_body_empty": "The text is empty; write something to send.",
    "sms_body_too_long": "A text is at most 1600 characters.",
    "sms_recipient_opted_out": "That number replied STOP to yours; texts to it are refused until it replies START.",
    # Billing
    "stripe_signature_invalid": "The Stripe-Signature header does not verify for this body, or is more than 5 minutes old.",
    "plan_unknown": "There is no such plan.",
    "already_subscribed": "You already have a subscription; manage it from the billing page.",
    "not_subscribed": "You have no subscription to manage yet.",
    # Signaling (WebSocket frames; see docs/signaling.md)
    "invalid_json": "A frame must be one JSON object (text, not binary).",
    "invalid_frame": "The frame does not match the schema; the message names the field.",
    "unknown_type": "There is no frame of that type.",
    "already_authenticated": "This socket is already authenticated.",
    "not_a_contact": "You can only call your mutual contacts.",
    "unknown_call": "There is no such call of yours.",
    "call_exists": "That call_id is already in use; pick a new random one.",
    "already_answered": "The call was already answered.",
    "invalid_state": "The call is not in a state where this frame applies.",
    "too_many_candidates": "At most 200 candidates are held for a call before it is answered.",
    "not_delivered": "The frame could not be delivered to the other party; it was not relayed.",
    "too_many_devices": "At most 5 devices can be connected at once.",
    "replaced": "A newer connection with the same device_id replaced this one.",
    "origin_not_allowed": "The signaling socket does not accept connections from this page or extension.",
}


class ServiceUnavailable(Exception):
    """A backing service (cache, channel layer) did not answer."""


def error_body(code: str, message: str | None = None) -> dict[str, str]:
    if code not in ERROR_CODES:
        raise ValueError(f"unknown error code {code!r}: add it to numfree/errors.py")
    return {"code": code, "message": message or ERROR_CODES[code]}
