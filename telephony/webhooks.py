"""Twilio's webhooks: signature first (403 otherwise, nothing done), then one call each.

Every URL is checked against NUMFREE_PUBLIC_URL + path, the address Twilio
signed. Location fields Twilio adds (FromCity, CallerZip, ...) are never read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from numfree.middleware import error_response
from telephony import calls, forwarding, sms_spool, twilio_api, voicemail

logger = logging.getLogger(__name__)
# Hidden from Django's error reports: the text and where the parties are.
SENSITIVE = (
    "Body",
    *(
        f"{party}{field}"
        for party in ("From", "To", "Caller", "Called")
        for field in ("City", "State", "Zip", "Country")
    ),
)
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'


def _twiml(body: str) -> HttpResponse:
    return HttpResponse(body, content_type="text/xml")


def twilio_signed(view: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    @csrf_exempt
    @require_POST
    @sensitive_post_parameters(*SENSITIVE)
    @wraps(view)
    def checked(request: HttpRequest) -> HttpResponse:
        url = settings.PUBLIC_URL.rstrip("/") + request.get_full_path()
        signature = request.headers.get("X-Twilio-Signature", "")
        if not twilio_api.is_valid_signature(url, request.POST, signature):
            logger.warning("twilio webhook with a bad or missing signature refused")
            return error_response(request, 403, "signature_invalid")
        return view(request)

    return checked


def _params(request: HttpRequest) -> dict[str, str]:
    return {**request.POST.dict(), "step": request.GET.get("step", "")}


@twilio_signed
def sms(request: HttpRequest) -> HttpResponse:
    sms_spool.receive_durably(request.POST)
    return _twiml(EMPTY_TWIML)


@twilio_signed
def sms_status(request: HttpRequest) -> HttpResponse:
    forwarding.update_status(request.POST)
    return HttpResponse(status=204)


@twilio_signed
def voice(request: HttpRequest) -> HttpResponse:
    return _twiml(calls.answer(_params(request)))


@twilio_signed
def voice_status(request: HttpRequest) -> HttpResponse:
    calls.update_status(request.POST)
    return HttpResponse(status=204)


@twilio_signed
def voicemail_recorded(request: HttpRequest) -> HttpResponse:
    voicemail.receive_recording(request.POST)
    return HttpResponse(status=204)
