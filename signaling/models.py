"""Contacts: one relation between two people, the same row (and id) seen from both sides.

The relation is a small state machine with one stance per side (asked, declined,
blocked or nothing), so consent and blocks always belong to the person who gave
them. Personal data: the requester, the addressee and the address asked for
belong to both users; signaling/ exports and erases them (see docs/signaling.md).
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
            | models.Q(addressee__isnull=True, addressee_email=user.email_key)
        )

    def mutual(self) -> ContactQuerySet:
        """The one "is mutual" rule in SQL: both sides stand by their consent."""
        return self.filter(requester_stance=Contact.ASKED, addressee_stance=Contact.ASKED, addressee__isnull=False)

    def mutual_for(self, user_id: int) -> ContactQuerySet:
        return self.mutual().filter(models.Q(requester_id=user_id) | models.Q(addressee_id=user_id))


class Contact(models.Model):
    """A relation between the person who asked first (requester) and an address.

    `addressee_email` is the address the requester typed; `addressee` is set
    once it matches a verified account, or when that person acts on the row.
    The two sides never swap. Each side has a stance:

    - `asked`: this side wants the contact (it asked, or accepted);
    - `declined`: this side dismissed the other's request (hidden from it);
    - `blocked`: this side blocked the other; only it can lift that, by asking;
    - `none`: nothing.

    Mutual means both sides stand at `asked`. A block withdraws the blocker's
    consent and voids the other's: what the blocked person asked before the
    block is lifted never counts, so lifting it waits for their new accept.
    """

    NONE = "none"
    ASKED = "asked"
    DECLINED = "declined"
    BLOCKED = "blocked"
    STANCES = [(NONE, "Nothing"), (ASKED, "Asked"), (DECLINED, "Declined"), (BLOCKED, "Blocked")]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    requester = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    addressee_email = models.EmailField(max_length=254)
    addressee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    requester_stance = models.CharField(max_length=8, choices=STANCES, default=ASKED)
    addressee_stance = models.CharField(max_length=8, choices=STANCES, default=NONE)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ContactQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["requester", "addressee_email"], name="signaling_contact_once"),
        ]
        indexes = [models.Index(fields=["addressee_email"])]

    def __str__(self) -> str:
        return f"contact {self.id}"

    @classmethod
    def mutual_between(cls, requester: models.Model, addressee: models.Model) -> Contact:
        """A mutual contact made directly (fixtures, benchmarks): both sides asked."""
        return cls.objects.create(
            requester=requester,
            addressee=addressee,
            addressee_email=addressee.email_key,
            requester_stance=cls.ASKED,
            addressee_stance=cls.ASKED,
        )

    # --- reading ---
    def is_requester(self, user: models.Model) -> bool:
        return self.requester_id == user.pk

    def other_email(self, user: models.Model) -> str:
        if self.is_requester(user):
            return self.addressee.email if self.addressee_id else self.addressee_email
        return self.requester.email

    def other_user_id(self, user: models.Model) -> int | None:
        return self.addressee_id if self.is_requester(user) else self.requester_id

    @property
    def is_mutual(self) -> bool:
        both = self.requester_stance == self.ASKED and self.addressee_stance == self.ASKED
        return both and self.addressee_id is not None

    @property
    def is_void(self) -> bool:
        """Nobody asks, declines or blocks any more: the row says nothing and can go."""
        return self.requester_stance == self.NONE and self.addressee_stance == self.NONE

    def status_for(self, user: models.Model) -> str | None:
        """ "mutual", "outgoing", "incoming", or None when this user must not see the row."""
        mine, theirs = self._stances(user)
        if mine == self.ASKED:
            return "mutual" if self.is_mutual else "outgoing"
        if mine == self.NONE and theirs == self.ASKED:
            return "incoming"
        return None

    # --- the transitions (no I/O; contacts.py locks, saves and notifies) ---
    def bind_addressee(self, user: models.Model) -> None:
        """The person an address belongs to acts on the row: it is theirs from now on."""
        if not self.is_requester(user) and self.addressee_id is None:
            self.addressee = user

    def ask(self, user: models.Model) -> None:
        """Ask (again): mutual only if the other side stands at `asked` after any block of ours."""
        mine, theirs = self._stances(user)
        if mine == self.BLOCKED and theirs == self.ASKED:
            theirs = self.NONE  # asked before we lifted our block: it does not count
        self._set(user, self.ASKED, theirs)

    def accept(self, user: models.Model) -> None:
        """Accept the other side's standing request (only from "incoming")."""
        mine, theirs = self._stances(user)
        if mine == self.NONE and theirs == self.ASKED:
            self._set(user, self.ASKED, theirs)

    def remove(self, user: models.Model) -> None:
        """Remove a mutual contact (for both), withdraw our request, or decline theirs."""
        mine, theirs = self._stances(user)
        if mine == self.ASKED and theirs == self.ASKED:
            self._set(user, self.NONE, self.NONE)
        elif mine == self.ASKED:
            self._set(user, self.NONE, self.NONE if theirs == self.DECLINED else theirs)
        elif mine == self.NONE and theirs == self.ASKED:
            self._set(user, self.DECLINED, theirs)

    def block(self, user: models.Model) -> None:
        """Withdraw, decline or remove, and hide the other side's requests until we ask them."""
        _, theirs = self._stances(user)
        # A stance of theirs at `asked` stays so they keep seeing "outgoing"; ask() voids it.
        self._set(user, self.BLOCKED, self.NONE if theirs == self.DECLINED else theirs)

    def _stances(self, user: models.Model) -> tuple[str, str]:
        if self.is_requester(user):
            return self.requester_stance, self.addressee_stance
        return self.addressee_stance, self.requester_stance

    def _set(self, user: models.Model, mine: str, theirs: str) -> None:
        if self.is_requester(user):
            self.requester_stance, self.addressee_stance = mine, theirs
        else:
            self.addressee_stance, self.requester_stance = mine, theirs
