"""Contacts: one relation between two people, the same row (and id) seen from both sides.

Personal data: the requester, the addressee and the address asked for belong to
both users; signaling/ exports and erases them (see docs/signaling.md).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class ContactQuerySet(models.QuerySet["Contact"]):
    def involving(self, user: models.Model) -> ContactQuerySet:
        """Rows this user can see: the ones they asked for, and the ones asked of them."""
        return self.filter(
            models.Q(requester=user)
            | models.Q(addressee=user)
            | models.Q(addressee__isnull=True, addressee_email=user.email.lower())
        )

    def mutual_for(self, user: models.Model) -> ContactQuerySet:
        return self.filter(models.Q(requester=user) | models.Q(addressee=user), status=Contact.MUTUAL)


class Contact(models.Model):
    """A contact request or a mutual contact.

    `addressee_email` is the address the requester typed; `addressee` is set once
    it matches a verified account (or when accepted). A declined or blocked
    request stays as it is for the requester ("outgoing"), and is hidden from
    the addressee; the row is always stored with the blocked person as
    requester, so the same person who blocked never sees them again.
    """

    PENDING = "pending"
    MUTUAL = "mutual"
    DECLINED = "declined"
    BLOCKED = "blocked"
    STATUSES = [(PENDING, "Pending"), (MUTUAL, "Mutual"), (DECLINED, "Declined"), (BLOCKED, "Blocked")]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    requester = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    addressee_email = models.EmailField(max_length=254)
    addressee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(max_length=8, choices=STATUSES, default=PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ContactQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["requester", "addressee_email"], name="signaling_contact_once"),
        ]
        indexes = [models.Index(fields=["addressee_email"]), models.Index(fields=["addressee", "status"])]

    def __str__(self) -> str:
        return f"contact {self.id}"

    def is_requester(self, user: models.Model) -> bool:
        return self.requester_id == user.pk

    def other_email(self, user: models.Model) -> str:
        if self.is_requester(user):
            return self.addressee.email if self.addressee_id else self.addressee_email
        return self.requester.email

    def other_user_id(self, user: models.Model) -> int | None:
        return self.addressee_id if self.is_requester(user) else self.requester_id

    def status_for(self, user: models.Model) -> str | None:
        """ "mutual", "outgoing", "incoming", or None when this user must not see the row."""
        if self.status == self.MUTUAL:
            return "mutual"
        if self.is_requester(user):
            return "outgoing"
        return "incoming" if self.status == self.PENDING else None
