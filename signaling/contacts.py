"""Asking, accepting, declining, removing and blocking contacts.

The rules of one relation live in `signaling.models.Contact` (a state machine
with one stance per side); this module finds the row, locks it, applies the
transition, stores it and tells both people's sockets after commit. The answer
to "add this email" never depends on whether the address has an account, so
nobody can probe who uses NumFree.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from accounts.email_identity import email_key
from accounts.models import User
from signaling.models import Contact
from signaling.notify import contacts_changed

NOT_FOUND = "There is nothing here, or it is not yours."


class ContactError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ContactView:
    id: str
    email: str
    status: str

    def as_dict(self) -> dict[str, str]:
        return {"id": self.id, "email": self.email, "status": self.status}


def _view(contact: Contact, user: User) -> ContactView:
    status = contact.status_for(user)
    assert status is not None, "a transition left the acting user unable to see the row"
    return ContactView(str(contact.id), contact.other_email(user), status)


# --- finding people and relations ---
def contact_address(email: str) -> str:
    """The form in which an address is stored and compared: the canonical email key, as for logins."""
    return email_key(email)


def verified_account(address: str) -> User | None:
    """The account that can be a contact at this address: verified and active, else None."""
    return User.objects.by_email(address).filter(email_verified=True, is_active=True).first()


def _relation(user: User, address: str, target: User | None) -> Contact | None:
    """The one row between `user` and `address` (or its account), locked, if there is one."""
    between = Q(requester=user, addressee_email=address)
    if target is not None:
        between |= (
            Q(requester=user, addressee=target)
            | Q(requester=target, addressee=user)
            | Q(requester=target, addressee__isnull=True, addressee_email=contact_address(user.email))
        )
    return Contact.objects.select_for_update(of=("self",)).filter(between).order_by("created_at").first()


def _lock_people(*people: User | None) -> None:
    """Serialize asks involving the same people, so two crossing or repeated asks make one row.

    PostgreSQL waits on these row locks; SQLite takes its write lock at the start
    of every transaction (IMMEDIATE), which serializes them already.
    """
    ids = sorted(p.pk for p in people if p is not None)
    # NO KEY UPDATE: conflicts with itself, not with the key-share locks that
    # writing a contact row (its foreign keys) takes on the same accounts.
    rows = User.objects.select_for_update(no_key=True).filter(pk__in=ids).order_by("pk")
    list(rows.values_list("pk", flat=True))


# --- reading ---
def list_contacts(user: User) -> list[ContactView]:
    rows = Contact.objects.involving(user).select_related("requester", "addressee").order_by("created_at")
    views = []
    for contact in rows:
        status = contact.status_for(user)
        if status is not None:
            views.append(ContactView(str(contact.id), contact.other_email(user), status))
    return views


def get_contact(user: User, contact_id: str | uuid.UUID, *, for_update: bool = False) -> Contact:
    """The one ownership check for contacts: a row this user can see, else ContactError not_found."""
    rows = Contact.objects.involving(user).select_related("requester", "addressee")
    if for_update:
        rows = rows.select_for_update(of=("self",))
    try:
        contact = rows.get(pk=contact_id)
    except (Contact.DoesNotExist, ValueError, TypeError, ValidationError):
        raise ContactError("not_found", NOT_FOUND) from None
    if contact.status_for(user) is None:
        raise ContactError("not_found", NOT_FOUND)
    return contact


def mutual_contacts(user_id: int) -> dict[int, str]:
    """{user id: email} of this user's mutual contacts who can still take part (verified, active).

    Presence snapshots, presence updates and call invites all go by this list.
    """
    result: dict[int, str] = {}
    for contact in Contact.objects.mutual_for(user_id).select_related("requester", "addressee"):
        other = contact.addressee if contact.requester_id == user_id else contact.requester
        if other is not None and other.email_verified and other.is_active:
            result[other.pk] = other.email
    return result


def is_mutual_contact(user_id: int, other_id: int) -> bool:
    """Whether these two may see each other's presence and call each other, by the same rule."""
    return other_id in mutual_contacts(user_id)


# --- the operations of the contacts API ---
def ask(user: User, email: str) -> ContactView:
    """Ask `email` to be a contact: mutual at once only if they stand by a request to you."""
    address = contact_address(email)
    if address == contact_address(user.email):
        raise ContactError("invalid", "You can't add yourself as a contact.")
    with transaction.atomic():
        target = verified_account(address)
        _lock_people(user, target)
        contact = _relation(user, address, target)
        if contact is None:
            contact = Contact.objects.create(requester=user, addressee_email=address, addressee=target)
        else:
            contact.bind_addressee(user)
            contact.ask(user)
            contact.save()
        _notify(contact)
        return _view(contact, user)


def accept(user: User, contact_id: str) -> ContactView:
    with transaction.atomic():
        contact = get_contact(user, contact_id, for_update=True)
        status = contact.status_for(user)
        if status == "outgoing":
            raise ContactError("invalid", "Only the person you asked can accept this request.")
        if status == "incoming":
            contact.bind_addressee(user)
            contact.accept(user)
            contact.save()
            _notify(contact)
        return _view(contact, user)


def remove(user: User, contact_id: str) -> None:
    """Withdraw (your request), decline (theirs) or remove (a mutual contact, for both sides)."""
    with transaction.atomic():
        contact = get_contact(user, contact_id, for_update=True)
        contact.bind_addressee(user)
        contact.remove(user)
        _store(contact)


def block(user: User, contact_id: str) -> None:
    """Like remove, and the other person's requests stay hidden ("outgoing" for them) until you ask them."""
    with transaction.atomic():
        contact = get_contact(user, contact_id, for_update=True)
        contact.bind_addressee(user)
        contact.block(user)
        _store(contact)


def _store(contact: Contact) -> None:
    _notify(contact)
    if contact.is_void:
        contact.delete()
    else:
        contact.save()


def _notify(contact: Contact) -> None:
    user_ids = [uid for uid in (contact.requester_id, contact.addressee_id) if uid is not None]
    transaction.on_commit(lambda: contacts_changed(user_ids))
