"""Asking, accepting, declining, removing and blocking contacts.

The answer to "add this email" never depends on whether the address has an
account, so nobody can probe who uses NumFree. After each change both people's
sockets get a fresh presence snapshot (after commit).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import User
from signaling.models import Contact
from signaling.notify import contacts_changed


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
    return ContactView(str(contact.id), contact.other_email(user), contact.status_for(user) or "outgoing")


def _verified_user(email: str) -> User | None:
    return User.objects.filter(email__iexact=email, email_verified=True, is_active=True).first()


def list_contacts(user: User) -> list[ContactView]:
    rows = Contact.objects.involving(user).select_related("requester", "addressee").order_by("created_at")
    views = []
    for contact in rows:
        status = contact.status_for(user)
        if status is not None:
            views.append(ContactView(str(contact.id), contact.other_email(user), status))
    return views


def get_contact(user: User, contact_id: str | uuid.UUID) -> Contact:
    """The one ownership check for contacts: a row this user can see, else ContactError not_found."""
    try:
        contact = Contact.objects.involving(user).select_related("requester", "addressee").get(pk=contact_id)
    except (Contact.DoesNotExist, ValueError, TypeError, ValidationError):
        raise ContactError("not_found", "There is nothing here, or it is not yours.") from None
    if contact.status_for(user) is None:
        raise ContactError("not_found", "There is nothing here, or it is not yours.")
    return contact


def ask(user: User, email: str) -> ContactView:
    """Ask `email` to be a contact; mutual at once if they had already asked."""
    email = User.objects.normalize_email(email).strip().lower()
    if email == user.email.lower():
        raise ContactError("invalid", "You can't add yourself as a contact.")
    with transaction.atomic():
        mine = Contact.objects.filter(requester=user, addressee_email=email).first()
        if mine is not None:
            return _view(mine, user)
        target = _verified_user(email)
        if target is not None:
            theirs = Contact.objects.filter(requester=target).filter(addressee=user).first() or (
                Contact.objects.filter(requester=target, addressee_email=user.email.lower()).first()
            )
            if theirs is not None:
                theirs.status = Contact.MUTUAL
                theirs.addressee = user
                theirs.save(update_fields=["status", "addressee", "updated_at"])
                _notify(theirs)
                return _view(theirs, user)
        try:
            with transaction.atomic():
                contact = Contact.objects.create(requester=user, addressee_email=email, addressee=target)
        except IntegrityError:  # the same request, sent twice at once
            contact = Contact.objects.get(requester=user, addressee_email=email)
        _notify(contact)
        return _view(contact, user)


def accept(user: User, contact_id: str) -> ContactView:
    with transaction.atomic():
        contact = get_contact(user, contact_id)
        if contact.status != Contact.MUTUAL:
            if contact.is_requester(user):
                raise ContactError("invalid", "Only the person you asked can accept this request.")
            contact.status = Contact.MUTUAL
            contact.addressee = user
            contact.save(update_fields=["status", "addressee", "updated_at"])
            _notify(contact)
    return _view(contact, user)


def remove(user: User, contact_id: str) -> None:
    """Withdraw (requester), decline (addressee of a request) or remove (mutual), for both sides."""
    with transaction.atomic():
        contact = get_contact(user, contact_id)
        if contact.status == Contact.PENDING and not contact.is_requester(user):
            contact.status = Contact.DECLINED
            contact.addressee = user
            contact.save(update_fields=["status", "addressee", "updated_at"])
        else:
            contact.delete()
        _notify(contact)


def block(user: User, contact_id: str) -> None:
    """Like remove, and the other person's future requests stay hidden ("outgoing" for them)."""
    with transaction.atomic():
        contact = get_contact(user, contact_id)
        other_id = contact.other_user_id(user)
        if other_id is None:  # an address with no account: nothing to block, just withdraw
            contact.delete()
            _notify(contact)
            return
        other = User.objects.get(pk=other_id)
        contact.delete()
        Contact.objects.filter(requester=other, addressee_email=user.email.lower()).delete()
        Contact.objects.create(
            requester=other, addressee=user, addressee_email=user.email.lower(), status=Contact.BLOCKED
        )
        _notify(contact)


def mutual_contacts(user_id: int) -> dict[int, str]:
    """{user id: email} of this user's mutual contacts who can still take part (verified, active)."""
    result: dict[int, str] = {}
    rows = Contact.objects.filter(status=Contact.MUTUAL).select_related("requester", "addressee")
    for contact in rows.filter(requester_id=user_id) | rows.filter(addressee_id=user_id):
        other = contact.addressee if contact.requester_id == user_id else contact.requester
        if other is not None and other.email_verified and other.is_active:
            result[other.pk] = other.email
    return result


def _notify(contact: Contact) -> None:
    user_ids = [uid for uid in (contact.requester_id, contact.addressee_id) if uid is not None]
    transaction.on_commit(lambda: contacts_changed(user_ids))
