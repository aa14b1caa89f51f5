"""Getting and releasing a number."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from billing.entitlements import can_hold_number
from numfree.ratelimits import enforce_account
from telephony import numbers
from telephony.forms import BuyNumberForm, NumberSearchForm
from telephony.people import format_number


@login_required
def number_page(request: HttpRequest) -> HttpResponse:
    form = NumberSearchForm(request.GET or None)
    results = []
    error = ""
    if form.is_bound and form.is_valid():
        enforce_account(request, "number_search_account", request.user.email)
        try:
            results = numbers.search(request.user, form.cleaned_data["country"], form.cleaned_data["area_code"])
        except numbers.NumberError as exc:
            error = exc.message
        if not results and not error:
            error = "No numbers are available in that area code right now; try another."
    return render(
        request,
        "telephony/number.html",
        {
            "number": numbers.current_number(request.user),
            "form": form,
            "results": results,
            "country": form.cleaned_data.get("country", "") if form.is_bound and form.is_valid() else "",
            "error": error,
        },
    )


@login_required
@require_POST
def buy(request: HttpRequest) -> HttpResponse:
    form = BuyNumberForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Pick a number from the search results.")
        return redirect("telephony:number")
    enforce_account(request, "number_buy_account", request.user.email)
    try:
        number = numbers.buy(request.user, form.cleaned_data["e164"], form.cleaned_data["country"])
    except numbers.NumberError as exc:
        messages.error(request, exc.message)
        return redirect("telephony:number")
    messages.success(request, f"{format_number(number.e164, number.country)} is your NumFree number.")
    return redirect("telephony:number")


@login_required
@require_http_methods(["GET", "POST"])
def release(request: HttpRequest) -> HttpResponse:
    """GET asks first and says what follows for calls, texts and the plan; POST releases."""
    if request.method == "GET":
        number = numbers.current_number(request.user)
        if number is None:
            return redirect("telephony:number")
        return render(
            request,
            "telephony/number_release.html",
            {"number": number, "has_plan": can_hold_number(request.user)},
        )
    if numbers.release_number(request.user):
        messages.success(
            request,
            "Your number was released. Calls and texts to it no longer reach you. "
            "Your plan keeps running: pick a new number here, or cancel the plan on the billing page.",
        )
    return redirect("telephony:number")
