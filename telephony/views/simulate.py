"""The simulation panel (DEBUG only): a new user sees a text, a call and a voicemail arrive,
and reads the texts NumFree sent (the forwarding phone's code) where "the phone" would."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from numfree.ratelimits import enforce_account
from telephony import simulation, twilio_fake
from telephony.forms import SimulateForm
from telephony.models import Forwarding
from telephony.numbers import current_number


@login_required
def simulate(request: HttpRequest) -> HttpResponse:
    if not settings.DEBUG:
        raise Http404("Simulation exists only in embedded mode.")
    number = current_number(request.user)
    form = SimulateForm(request.POST or None)
    if request.method == "POST" and number and form.is_valid():
        enforce_account(request, "simulate_account", request.user.email)
        event, sender = form.cleaned_data["event"], form.cleaned_data["sender"]
        if event == "sms":
            simulation.inbound_sms(number, sender, form.cleaned_data["body"] or "Hello from the simulator")
            messages.success(request, "A text arrived; the worker emails it to you (see the console).")
            return redirect("telephony:messages")
        simulation.inbound_call(number, sender, answered=event == "call-answered")
        messages.success(request, _call_outcome(request, event))
        return redirect("telephony:calls")
    forwarding = Forwarding.objects.filter(user=request.user).first()
    ring_phone = forwarding.ring_phone() if forwarding else ""
    return render(request, "telephony/simulate.html", {"form": form, "number": number, "ring_phone": ring_phone})


def _call_outcome(request: HttpRequest, event: str) -> str:
    forwarding = Forwarding.objects.filter(user=request.user).first()
    if event == "call-voicemail":
        return "A call came in. It left a voicemail."
    if forwarding is None or not forwarding.ring_phone() or forwarding.do_not_disturb:
        return "A call came in. No confirmed forwarding phone rang (or do-not-disturb is on), so it went to voicemail."
    return "A call came in and your forwarding phone answered it."


@login_required
def sent_texts(request: HttpRequest) -> HttpResponse:
    """What the phone network holds of the texts sent from the user's number, bodies included:
    Twilio's side, until NumFree deletes each one there (DEBUG only)."""
    if not settings.DEBUG:
        raise Http404("Simulation exists only in embedded mode.")
    number = current_number(request.user)
    texts = twilio_fake.sent_texts(number) if number else []
    return render(request, "telephony/simulate_texts.html", {"number": number, "texts": texts})
