"""The simulation panel (DEBUG only): a new user sees a text, a call and a voicemail arrive."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from numfree.ratelimits import enforce_account
from telephony import simulation
from telephony.forms import SimulateForm
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
        messages.success(request, "A call came in." + (" It left a voicemail." if event == "call-voicemail" else ""))
        return redirect("telephony:calls")
    return render(request, "telephony/simulate.html", {"form": form, "number": number})
