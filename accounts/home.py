"""What the signed-in home page (/dashboard/) shows: the number, the plan, what is new, and the next steps.

A fixed number of queries whatever the account holds: each list is cut to HOME_LIST_LENGTH rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.urls import reverse

from accounts.models import SignIn
from billing.subscriptions import account_for
from signaling import contacts
from telephony.models import CallLog, Forwarding, PhoneNumber, SmsLog, Voicemail

if TYPE_CHECKING:
    from accounts.models import User
    from billing.models import BillingAccount

HOME_LIST_LENGTH = 5


@dataclass(frozen=True)
class Step:
    """One step of a new account's checklist; `post` steps are a form button, the others a link."""

    key: str
    title: str
    done: bool
    done_text: str
    action: str
    url: str
    post: bool = False
    hint: str = ""


@dataclass
class Home:
    number: str | None
    billing: BillingAccount | None
    has_plan: bool
    unheard_voicemail: int
    calls: list[CallLog] = field(default_factory=list)
    texts: list[SmsLog] = field(default_factory=list)
    contact_requests: list[contacts.ContactView] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)

    @property
    def set_up(self) -> bool:
        return all(step.done for step in self.steps)

    @property
    def next_step(self) -> Step | None:
        return next((step for step in self.steps if not step.done), None)


def _forwarding_done(forwarding: Forwarding | None) -> bool:
    """The forwarding phone is confirmed and no forwarding address waits for its link."""
    if forwarding is None or not forwarding.phone_verified:
        return False
    return not forwarding.email or forwarding.email_verified


def checklist(
    user: User, *, has_plan: bool, number: str | None, forwarding: Forwarding | None, extension: bool
) -> list[Step]:
    return [
        Step(
            "verify",
            "Confirm your email address",
            user.email_verified,
            "Confirmed.",
            "Send the link again",
            reverse("resend-verification"),
            post=True,
            hint=f"We sent a link to {user.email}.",
        ),
        Step(
            "plan",
            "Choose a plan",
            has_plan,
            "Your plan is active.",
            "Choose a plan",
            reverse("billing"),
            hint="A plan gives you a number, call forwarding, voicemail and texts by email.",
        ),
        Step(
            "number",
            "Pick your number",
            number is not None,
            "",  # the page shows the number itself, formatted
            "Pick a number",
            reverse("telephony:number"),
            hint="Search by area code and pick the one you like.",
        ),
        Step(
            "forwarding",
            "Set where texts and calls go",
            _forwarding_done(forwarding),
            "Your forwarding email and phone are confirmed.",
            "Set forwarding",
            reverse("telephony:settings"),
            hint="Calls ring your own phone; texts arrive by email.",
        ),
        Step(
            "extension",
            "Install NumFree Caller",
            extension,
            "NumFree Caller is signed in.",
            "About the extension",
            reverse("privacy:extension"),
            hint="Call other NumFree users from Chrome, free.",
        ),
    ]


def home_for(user: User) -> Home:
    billing = account_for(user)
    has_plan = bool(billing and billing.has_service())
    number = PhoneNumber.objects.filter(user=user).order_by("bought_at").values_list("e164", flat=True).first()
    forwarding = Forwarding.objects.filter(user=user).first()
    extension = SignIn.objects.filter(user=user).exists()
    calls = CallLog.objects.filter(user=user).select_related("peer_user").order_by("-started_at", "-id")
    texts = SmsLog.objects.filter(user=user).order_by("-created_at", "-id")
    return Home(
        number=number,
        billing=billing,
        has_plan=has_plan,
        unheard_voicemail=Voicemail.objects.filter(user=user, heard=False).count(),
        calls=list(calls[:HOME_LIST_LENGTH]),
        texts=list(texts[:HOME_LIST_LENGTH]),
        contact_requests=[c for c in contacts.list_contacts(user) if c.status == "incoming"][:HOME_LIST_LENGTH],
        steps=checklist(user, has_plan=has_plan, number=number, forwarding=forwarding, extension=extension),
    )


def step_after_plan(user: User) -> Step:
    """Where the checkout return page sends someone once their plan is active."""
    if not PhoneNumber.objects.filter(user=user).exists():
        return Step("number", "Pick your number", False, "", "Pick a number", reverse("telephony:number"))
    return Step("home", "Home", False, "", "Go to your home page", reverse("dashboard"))
