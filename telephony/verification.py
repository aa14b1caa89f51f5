"""Verifying where calls and texts are forwarded: a link for an email, an SMS code for a phone."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core import signing
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from numfree.mail import queue_email
from telephony import sending, twilio_api
from telephony.models import Forwarding
from telephony.numbers import current_number

if TYPE_CHECKING:
    from accounts.models import User

EMAIL_SALT = "telephony.forwarding-email"
CODE_LIFETIME = timedelta(minutes=15)
MAX_CODE_ATTEMPTS = 5


def forwarding_of(user: User) -> Forwarding:
    forwarding, _ = Forwarding.objects.get_or_create(user=user)
    return forwarding


def request_email(user: User, email: str) -> None:
    """Remember the address and send it a link; texts keep going to the account email until it is used."""
    forwarding = forwarding_of(user)
    forwarding.email, forwarding.email_verified = email, False
    forwarding.save(update_fields=["email", "email_verified"])
    token = signing.dumps({"u": user.pk, "e": email}, salt=EMAIL_SALT)
    link = settings.PUBLIC_URL.rstrip("/") + reverse("telephony:verify-email", args=[token])
    queue_email(
        to=email,
        subject="Confirm where NumFree forwards your texts",
        template="telephony/email/verify_forwarding.txt",
        context={"link": link},
    )


def confirm_email(user: User, token: str) -> bool:
    try:
        data = signing.loads(token, salt=EMAIL_SALT, max_age=settings.EMAIL_VERIFICATION_MAX_AGE)
    except signing.BadSignature:
        return False
    forwarding = forwarding_of(user)
    if data.get("u") != user.pk or data.get("e") != forwarding.email:
        return False
    forwarding.email_verified = True
    forwarding.save(update_fields=["email_verified"])
    return True


def request_phone(user: User, phone: str) -> None:
    """Text a six-digit code to the phone from the user's number (raises TelephonyError)."""
    our_number = current_number(user)
    if our_number is None:
        raise twilio_api.TelephonyError("Get a NumFree number first: the code is texted from it.")
    code = f"{secrets.randbelow(1_000_000):06d}"
    # Logged (metadata only) and deleted at Twilio like any text we send.
    sending.send_logged(user, our_number, phone, f"Your NumFree code is {code}. It expires in 15 minutes.")
    forwarding = forwarding_of(user)
    forwarding.phone, forwarding.phone_verified = phone, False
    forwarding.phone_code_hash = make_password(code)
    forwarding.phone_code_sent_at = timezone.now()
    forwarding.phone_code_attempts = 0
    forwarding.save(
        update_fields=["phone", "phone_verified", "phone_code_hash", "phone_code_sent_at", "phone_code_attempts"]
    )


def confirm_phone(user: User, code: str) -> bool:
    """Check a code against the one texted; after MAX_CODE_ATTEMPTS tries that code is dead.

    Each try is counted before the code is compared, by one conditional UPDATE
    (attempts < limit, bound to that very code and still fresh), so guesses sent
    at once cannot share one attempt: a guess that gets no attempt is not checked.
    """
    code_hash = forwarding_of(user).phone_code_hash
    if not code_hash:
        return False
    this_code = Forwarding.objects.filter(user=user, phone_code_hash=code_hash)
    counted = this_code.filter(
        phone_code_attempts__lt=MAX_CODE_ATTEMPTS, phone_code_sent_at__gte=timezone.now() - CODE_LIFETIME
    ).update(phone_code_attempts=F("phone_code_attempts") + 1)
    if not counted or not check_password(code, code_hash):
        return False
    return this_code.update(phone_verified=True, phone_code_hash="") == 1
