"""The address book: naming a number, renaming it, removing a name (asked first)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from telephony import numbers
from telephony.forms import NameNumberForm
from telephony.models import NamedNumber
from telephony.people import AddressBookError, format_number, home_country, name_number


def owned_named_number(user: object, pk: int) -> NamedNumber:
    """The one ownership check for address book entries: someone else's is a 404."""
    return get_object_or_404(NamedNumber, pk=pk, user=user)


def _back(request: HttpRequest) -> HttpResponse:
    """Back to the page the form was on (a thread, the calls), else the address book."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}) and target[0] == "/":
        return redirect(target)
    return redirect("telephony:people")


@login_required
def address_book(request: HttpRequest, form: NameNumberForm | None = None) -> HttpResponse:
    return render(
        request,
        "telephony/people.html",
        {
            "named": NamedNumber.objects.filter(user=request.user).order_by("name", "number"),
            "form": form or NameNumberForm(initial={"number": request.GET.get("number", "")[:32]}),
            "number": numbers.current_number(request.user),
        },
    )


@login_required
@require_POST
def name(request: HttpRequest) -> HttpResponse:
    form = NameNumberForm(request.POST)
    if not form.is_valid():
        return address_book(request, form)
    try:
        entry = name_number(request.user, form.cleaned_data["number"], form.cleaned_data["name"])
    except AddressBookError as exc:
        form.add_error(None, str(exc))
        return address_book(request, form)
    shown = format_number(entry.number, home_country(request.user))
    messages.success(request, f"Saved: {shown} is now shown as {entry.name}.")
    return _back(request)


@login_required
@require_http_methods(["GET", "POST"])
def remove(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks first (and says what follows); POST removes the name."""
    entry = owned_named_number(request.user, pk)
    if request.method == "GET":
        return render(request, "telephony/people_remove.html", {"entry": entry})
    entry.delete()
    messages.success(request, "The name is removed; the number is shown again.")
    return redirect("telephony:people")
