"""The settings page: forwarding email and phone, do-not-disturb, greeting, blocked numbers, sending a text."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from numfree.ratelimits import enforce_account
from telephony import sending, twilio_api, verification
from telephony.forms import (
    BlockForm,
    ForwardingEmailForm,
    ForwardingPhoneForm,
    PhoneCodeForm,
    PreferencesForm,
    SendSmsForm,
)
from telephony.models import BlockedNumber
from telephony.numbers import current_number
from telephony.people import People


@login_required
def settings_page(request: HttpRequest) -> HttpResponse:
    forwarding = verification.forwarding_of(request.user)
    return render(
        request,
        "telephony/settings.html",
        {
            "forwarding": forwarding,
            "number": current_number(request.user),
            "email_form": ForwardingEmailForm(initial={"email": forwarding.email}),
            "phone_form": ForwardingPhoneForm(
                initial={"phone": People.for_request(request).number_to_edit(forwarding.phone)}
            ),
            "code_form": PhoneCodeForm(),
            "preferences_form": PreferencesForm(
                initial={"do_not_disturb": forwarding.do_not_disturb, "greeting": forwarding.greeting}
            ),
            "block_form": BlockForm(),
            "send_form": SendSmsForm(),
            "blocked": BlockedNumber.objects.filter(user=request.user).order_by("number"),
        },
    )


def _invalid(request: HttpRequest, form: object) -> HttpResponse:
    for errors in form.errors.values():  # type: ignore[attr-defined]
        messages.error(request, errors[0])
    return redirect("telephony:settings")


@login_required
@require_POST
def set_email(request: HttpRequest) -> HttpResponse:
    form = ForwardingEmailForm(request.POST)
    if not form.is_valid():
        return _invalid(request, form)
    enforce_account(request, "resend_verification_account", request.user.email)
    verification.request_email(request.user, form.cleaned_data["email"])
    messages.success(request, "We sent a link to that address. Texts go to your account email until you open it.")
    return redirect("telephony:settings")


@login_required
def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    if verification.confirm_email(request.user, token):
        messages.success(request, "Confirmed: your texts are now forwarded to that address.")
    else:
        messages.error(request, "That link is invalid or has expired; ask for a new one.")
    return redirect("telephony:settings")


@login_required
@require_POST
def set_phone(request: HttpRequest) -> HttpResponse:
    form = ForwardingPhoneForm(request.POST)
    if not form.is_valid():
        return _invalid(request, form)
    enforce_account(request, "phone_code_account", request.user.email)
    try:
        verification.request_phone(request.user, form.cleaned_data["phone"])
    except twilio_api.TelephonyError as exc:
        messages.error(request, str(exc))
        return redirect("telephony:settings")
    messages.success(request, "We texted a six-digit code to that phone; enter it below.")
    return redirect("telephony:settings")


@login_required
@require_POST
def confirm_phone(request: HttpRequest) -> HttpResponse:
    form = PhoneCodeForm(request.POST)
    if not form.is_valid():
        return _invalid(request, form)
    if verification.confirm_phone(request.user, form.cleaned_data["code"]):
        messages.success(request, "Confirmed: calls to your NumFree number now ring that phone.")
    else:
        messages.error(request, "That code is wrong or has expired; ask for a new one.")
    return redirect("telephony:settings")


@login_required
@require_POST
def set_preferences(request: HttpRequest) -> HttpResponse:
    form = PreferencesForm(request.POST)
    if not form.is_valid():
        return _invalid(request, form)
    forwarding = verification.forwarding_of(request.user)
    forwarding.do_not_disturb = form.cleaned_data["do_not_disturb"]
    forwarding.greeting = form.cleaned_data["greeting"]
    forwarding.save(update_fields=["do_not_disturb", "greeting"])
    messages.success(request, "Saved.")
    return redirect("telephony:settings")


@login_required
@require_POST
def block(request: HttpRequest) -> HttpResponse:
    form = BlockForm(request.POST)
    if not form.is_valid():
        return _invalid(request, form)
    BlockedNumber.objects.get_or_create(user=request.user, number=form.cleaned_data["number"])
    messages.success(request, "Blocked: calls from that number are rejected and its texts are not forwarded.")
    return redirect("telephony:settings")


@login_required
@require_POST
def unblock(request: HttpRequest, pk: int) -> HttpResponse:
    get_object_or_404(BlockedNumber, pk=pk, user=request.user).delete()
    messages.success(request, "Unblocked.")
    return redirect("telephony:settings")


@login_required
@require_POST
def send(request: HttpRequest) -> HttpResponse:
    form = SendSmsForm(request.POST)
    # Sent from a thread or the conversation list: the answer is shown in the thread.
    in_thread = request.POST.get("from") == "thread"
    if not form.is_valid():
        if in_thread and form.cleaned_data.get("to"):
            for errors in form.errors.values():
                messages.error(request, errors[0])
            return redirect("telephony:thread", peer=form.cleaned_data["to"])
        return _invalid(request, form)
    enforce_account(request, "send_sms_account", request.user.email)
    to = form.cleaned_data["to"]
    try:
        sending.send_text(request.user, to, form.cleaned_data["body"])
    except sending.SendError as exc:
        messages.error(request, exc.message)
        return redirect("telephony:thread", peer=to) if in_thread else redirect("telephony:settings")
    if in_thread:
        messages.success(request, "Sent. The text itself is not kept; its status shows below.")
        return redirect("telephony:thread", peer=to)
    messages.success(request, "Sent. The text itself is not kept; the messages log shows its status.")
    return redirect("telephony:messages")
