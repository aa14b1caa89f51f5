"""Creating an account from the sign-up form, without telling strangers who has one."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.urls import reverse

from accounts.email_identity import parse_email
from accounts.models import User
from accounts.verification import send_verification
from numfree.mail import queue_email


def sign_up(email: str, name: str, password: str) -> User | None:
    """Create an unverified account and queue its verification email.

    When the address already has an account, nothing is created: its owner
    gets an email saying so (with links to log in or reset the password) and
    the caller shows the same "check your inbox" page, so the form cannot be
    used to find out who uses NumFree. "The address" means its canonical key
    (accounts/email_identity.py): Alice@ and its fullwidth spelling are the same address.
    Returns the new user, or None. Raises ValidationError for a refused address.
    """
    email = parse_email(email).address
    existing = User.objects.by_email(email).first()
    if existing is not None:
        make_password(password)  # the same hashing work as a real sign-up, so timing tells nothing
        _tell_existing_owner(existing.email)
        return None
    try:
        with transaction.atomic():
            user = User.objects.create_user(email=email, password=password, name=name)
            send_verification(user)
    except IntegrityError:
        # A concurrent sign-up with the same address won the race.
        winner = User.objects.by_email(email).first()
        _tell_existing_owner(winner.email if winner is not None else email)
        return None
    return user


def _tell_existing_owner(email: str) -> None:
    base = settings.PUBLIC_URL.rstrip("/")
    queue_email(
        to=email,
        subject="You already have a NumFree account",
        template="accounts/email/signup_existing.txt",
        context={"login_url": base + reverse("login"), "reset_url": base + reverse("password-reset")},
    )
