"""Phone numbers, call and SMS logs, voicemail. Message bodies are never stored."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


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

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "external_id"], name="telephony_calllog_once_per_user")
        ]
        indexes = [models.Index(fields=["user", "-started_at", "-id"], name="calllog_user_newest")]

    def __str__(self) -> str:
        return f"{self.kind} call {self.external_id}"

    @property
    def peer(self) -> str:
        if self.kind == self.KIND_APP:
            return self.peer_user.email if self.peer_user_id else "deleted user"
        return self.peer_number
