"""The contacts dashboard page: ask, accept, decline, remove, block."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from numfree.middleware import error_response
from signaling import contacts


class ContactForm(forms.Form):
    email = forms.EmailField(max_length=254, label="Their email address")


def _verified_only(request: HttpRequest) -> HttpResponse | None:
    if not request.user.email_verified:
        return error_response(request, 403, "email_unverified", "Confirm your email address before adding contacts.")
    return None


@login_required
def contact_list(request: HttpRequest) -> HttpResponse:
    if refusal := _verified_only(request):
        return refusal
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            asked = contacts.ask(request.user, form.cleaned_data["email"])
        except contacts.ContactError as exc:
            form.add_error("email", exc.message)
        else:
            if asked.status == "mutual":  # they had asked you: your ask accepts it
                messages.success(request, "You are now contacts.")
            else:
                messages.success(request, "Request sent. They'll appear as a contact once they accept.")
            return redirect("contacts")
    rows = contacts.list_contacts(request.user)
    return render(
        request,
        "signaling/contacts.html",
        {
            "form": form,
            "mutual": [c for c in rows if c.status == "mutual"],
            "incoming": [c for c in rows if c.status == "incoming"],
            "outgoing": [c for c in rows if c.status == "outgoing"],
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def contact_action(request: HttpRequest, contact_id: str, action: str) -> HttpResponse:
    """POST acts; GET asks first for removing or blocking (and says what follows)."""
    if refusal := _verified_only(request):
        return refusal
    if action not in ("accept", "block", "remove") or (request.method == "GET" and action == "accept"):
        return error_response(request, 404, "not_found", "There is nothing here.")
    if request.method == "GET":
        try:
            contact = contacts.get_contact(request.user, contact_id)
        except contacts.ContactError as exc:
            return error_response(request, 404, exc.code, exc.message)
        return render(
            request,
            "signaling/contact_confirm.html",
            {
                "contact": contact,
                "email": contact.other_email(request.user),
                "action": action,
                "status": contact.status_for(request.user),
            },
        )
    try:
        if action == "accept":
            contacts.accept(request.user, contact_id)
            messages.success(request, "You are now contacts.")
        elif action == "block":
            contacts.block(request.user, contact_id)
            messages.success(request, "Blocked. Their requests won't show up again.")
        else:
            contacts.remove(request.user, contact_id)
            messages.success(request, "Done.")
    except contacts.ContactError as exc:
        status = 404 if exc.code == "not_found" else 400
        return error_response(request, status, exc.code, exc.message)
    return redirect("contacts")
