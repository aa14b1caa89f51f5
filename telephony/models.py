"""Phone numbers, call and SMS logs, voicemail. Message bodies are never stored.

Location fields Twilio sends with webhooks (FromCity, FromZip, CallerState, ...)
have no column here on purpose: "we don't track where you are".
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from numfree.card_numbers import FreeTextCharField, FreeTextField

# Twilio's statuses in the order a message or call moves through them; a
# status callback only ever moves a log forward (callbacks arrive out of order).
SMS_STATUS_ORDER = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 1,
    "sending": 2,
    "receiving": 2,
    "sent": 3,
    "received": 4,
    "delivered": 5,
    "undelivered": 5,
    "failed": 5,
    "canceled": 5,
    "read": 6,
    "blocked": 7,
}
CALL_STATUS_ORDER = {
    "queued": 0,
    "initiated": 0,
    "ringing": 1,
    "in-progress": 2,
    "completed": 3,
    "busy": 3,
    "no-answer": 3,
    "failed": 3,
    "canceled": 3,
    "blocked": 4,
}


class CallLog(models.Model):
    """One call as one user saw it: a phone call to/from their number, or an app-to-app call.

    An app-to-app call has one row per party (kind="app", peer_user set);
    signaling/ writes those, telephony/ writes the phone ones.
    """

    KIND_APP = "app"
    KIND_PHONE = "phone"
    KINDS = [(KIND_APP, "App"), (KIND_PHONE, "Phone")]
    DIRECTIONS = [("in", "Incoming"), ("out", "Outgoing")]

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="call_logs")
    kind = models.CharField(max_length=8, choices=KINDS)
    direction = models.CharField(max_length=3, choices=DIRECTIONS)
    # The signaling call_id (app) or Twilio's CallSid (phone).
    external_id = models.CharField(max_length=64)
    peer_number = models.CharField(max_length=32, blank=True)  # phone calls, E.164
    peer_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )  # app calls; NULL once that user is deleted ("deleted user")
    started_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    duration_s = models.PositiveIntegerField(null=True, blank=True)
    end_reason = models.CharField(max_length=32, blank=True)
    missed = models.BooleanField(default=False)
    # Phone calls: Twilio's CallStatus, moved only forward (CALL_STATUS_ORDER).
    status = models.CharField(max_length=16, blank=True)
    # Phone calls: a blocked caller was rejected; not forwarded, no voicemail.
    blocked = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "external_id"], name="telephony_calllog_once_per_user")
        ]
        indexes = [
            models.Index(fields=["user", "-started_at", "-id"], name="calllog_user_newest"),
            models.Index(fields=["user", "kind", "-started_at", "-id"], name="calllog_user_kind_newest"),
            models.Index(fields=["user", "peer_number", "-started_at", "-id"], name="calllog_user_peer_newest"),
            # The retention purge finds expired rows of every user by age alone.
            models.Index(fields=["started_at"], name="calllog_started_at"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} call {self.external_id}"

    @property
    def peer(self) -> str:
        if self.kind == self.KIND_APP:
            return self.peer_user.email if self.peer_user_id else "deleted user"
        return self.peer_number


def normalize_number(value: str) -> str:
    """A phone number as E.164 (+ and digits), or "" when it is not one."""
    digits = "".join(ch for ch in value if ch.isdigit())
    if value.strip().startswith("+") and 8 <= len(digits) <= 15:
        return "+" + digits
    if len(digits) == 10:  # North American number typed without +1
        return "+1" + digits
    if len(digits) == 11 and digits.startswith("1"):
        return "+" + digits
    return ""


class PhoneNumber(models.Model):
    """A number NumFree bought at Twilio for a user. One per account for now."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="phone_numbers")
    e164 = models.CharField(max_length=16, unique=True)
    twilio_sid = models.CharField(max_length=34, unique=True)
    country = models.CharField(max_length=2)
    bought_at = models.DateTimeField(default=timezone.now)
    # Reconciliation's high-water mark: Twilio's inbound texts up to here were compared with ours.
    texts_checked_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"number {self.twilio_sid}"


class Forwarding(models.Model):
    """Where a user's calls ring and texts go, do-not-disturb and the voicemail greeting."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="forwarding")
    # Used only once verified by a link; until then texts go to the account email.
    email = models.EmailField(max_length=254, blank=True)
    email_verified = models.BooleanField(default=False)
    # Rung only once verified by an SMS code.
    phone = models.CharField(max_length=16, blank=True)
    phone_verified = models.BooleanField(default=False)
    phone_code_hash = models.CharField(max_length=128, blank=True)
    phone_code_sent_at = models.DateTimeField(null=True, blank=True)
    phone_code_attempts = models.PositiveSmallIntegerField(default=0)
    do_not_disturb = models.BooleanField(default=False)
    greeting = FreeTextField(max_length=500, blank=True)

    def __str__(self) -> str:
        return f"forwarding of user {self.user_id}"

    def forwarding_email(self) -> str:
        return self.email if self.email and self.email_verified else self.user.email

    def ring_phone(self) -> str:
        return self.phone if self.phone and self.phone_verified else ""

    def greeting_text(self) -> str:
        return self.greeting.strip() or settings.VOICEMAIL_DEFAULT_GREETING


class BlockedNumber(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="blocked_numbers")
    number = models.CharField(max_length=16)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "number"], name="telephony_blocked_once")]

    def __str__(self) -> str:
        return f"blocked number of user {self.user_id}"


class SmsLog(models.Model):
    """Metadata of one text message. The body is never stored here (or anywhere)."""

    DIRECTIONS = [("in", "Incoming"), ("out", "Outgoing")]

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sms_logs")
    direction = models.CharField(max_length=3, choices=DIRECTIONS)
    message_sid = models.CharField(max_length=34, unique=True)
    peer_number = models.CharField(max_length=32)
    our_number = models.CharField(max_length=16)
    created_at = models.DateTimeField(default=timezone.now)
    segments = models.PositiveSmallIntegerField(default=1)
    media_count = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=16)
    blocked = models.BooleanField(default=False)
    forwarded_at = models.DateTimeField(null=True, blank=True)
    # The body could not be emailed in time and was dropped.
    dropped = models.BooleanField(default=False)
    deleted_at_twilio = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["user", "-created_at", "-id"], name="smslog_user_newest"),
            models.Index(fields=["user", "peer_number", "-created_at", "-id"], name="smslog_user_peer_newest"),
            models.Index(fields=["created_at"], name="smslog_created_at"),
        ]

    def __str__(self) -> str:
        return f"sms {self.message_sid}"


def voicemail_path(instance: Voicemail, filename: str) -> str:
    return f"voicemail/{instance.user_id}/{instance.recording_sid}.mp3"


class Voicemail(models.Model):
    """A recording left after an unanswered call; the audio is in private storage."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="voicemails")
    recording_sid = models.CharField(max_length=34, unique=True)
    call_sid = models.CharField(max_length=34)
    peer_number = models.CharField(max_length=32)
    created_at = models.DateTimeField(default=timezone.now)
    duration_s = models.PositiveIntegerField(default=0)
    audio = models.FileField(upload_to=voicemail_path, blank=True)
    heard = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["user", "-created_at", "-id"], name="voicemail_user_newest"),
            models.Index(fields=["user", "peer_number", "-created_at", "-id"], name="voicemail_user_peer_newest"),
            models.Index(fields=["created_at"], name="voicemail_created_at"),
        ]

    def __str__(self) -> str:
        return f"voicemail {self.recording_sid}"


class NamedNumber(models.Model):
    """An address book entry: a name the user gave a phone number, shown wherever the number is."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="named_numbers")
    number = models.CharField(max_length=16)  # E.164
    name = FreeTextCharField(max_length=80)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "number"], name="telephony_named_number_once")]

    def __str__(self) -> str:
        return f"named number of user {self.user_id}"


class ConversationRead(models.Model):
    """How far the user has read the texts with one number: incoming texts after `read_until` are unread."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    peer_number = models.CharField(max_length=32)
    read_until = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "peer_number"], name="telephony_read_once")]

    def __str__(self) -> str:
        return f"read marker of user {self.user_id}"
