"""The phone network, simulated (DEBUG only): correctly signed webhooks to our own endpoints.

The requests Twilio makes while a text or call is under way (the inbound
text, the TwiML fetches) go through Django's full request handling
(middleware, URL routing, the signature check, the webhook view) within the
panel's request, exactly as Twilio's would; only the HTTP hop is skipped.
What Twilio reports afterwards (a call's end, a sent text's statuses) comes
from the fake Twilio's store, POSTed by the worker (twilio_fake_callbacks).
"""

from __future__ import annotations

import io
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core.handlers.base import BaseHandler
from django.core.handlers.wsgi import WSGIRequest

from telephony import twilio_api, twilio_fake

# Twilio sends where it thinks the caller is; NumFree ignores these (and the
# simulation sends them to show that).
LOCATION_FIELDS = {"FromCity": "SAN FRANCISCO", "FromState": "CA", "FromZip": "94105", "FromCountry": "US"}


def deliver(path: str, params: dict[str, str]) -> tuple[int, str]:
    """POST a webhook signed with our Twilio auth token; returns (status, body)."""
    public = urlsplit(settings.PUBLIC_URL)
    signature = twilio_api.signature_for(settings.PUBLIC_URL.rstrip("/") + path, params)
    parts = urlsplit(path)
    body = urlencode(params).encode()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": parts.path,
        "QUERY_STRING": parts.query,
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)),
        "SERVER_NAME": public.hostname or "127.0.0.1",
        "SERVER_PORT": str(public.port or (443 if public.scheme == "https" else 80)),
        "HTTP_HOST": public.netloc,
        "HTTP_X_TWILIO_SIGNATURE": signature,
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": public.scheme,
    }
    handler = BaseHandler()
    handler.load_middleware()
    response = handler.get_response(WSGIRequest(environ))
    return response.status_code, response.content.decode()


def inbound_sms(to: str, sender: str, body: str) -> int:
    account = twilio_api.account_sid()
    sid, _media = twilio_fake.receive_message(account, sender, to, body=body)
    params = {
        "ToCountry": "US",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "SmsSid": sid,
        "SmsStatus": "received",
        "Body": body,
        "To": to,
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": account,
        "From": sender,
        "ApiVersion": "2010-04-01",
        **LOCATION_FIELDS,
    }
    status, _ = deliver("/webhooks/twilio/sms/", params)
    return status


ANSWERED_SECONDS = 42


def inbound_call(to: str, sender: str, *, answered: bool) -> str:
    """A call rings; the forwarding phone picks up (`answered`) or a short voicemail is left.
    Returns the CallSid. The call's end reaches NumFree as Twilio's status callback."""
    account = twilio_api.account_sid()
    call_sid = twilio_fake.start_call(account, sender, to)
    call = {
        "AccountSid": account,
        "ApiVersion": "2010-04-01",
        "CallSid": call_sid,
        "Called": to,
        "Caller": sender,
        "Direction": "inbound",
        "From": sender,
        "To": to,
        **LOCATION_FIELDS,
        "CallerZip": "94105",
    }
    _status, twiml = deliver("/webhooks/twilio/voice/", {**call, "CallStatus": "ringing"})
    duration = 0
    if "<Dial" in twiml:
        if answered:
            outcome = {"DialCallStatus": "completed", "DialCallDuration": str(ANSWERED_SECONDS)}
            duration = ANSWERED_SECONDS + 3
        else:
            outcome = {"DialCallStatus": "no-answer"}
        _status, twiml = deliver(
            "/webhooks/twilio/voice/?step=dialed", {**call, "CallStatus": "in-progress", **outcome}
        )
    if "<Record" in twiml:
        seconds = 4
        recording_sid, recording_url = twilio_fake.record_voicemail(account, call_sid, seconds)
        deliver(
            "/webhooks/twilio/voicemail/",
            {
                "AccountSid": account,
                "CallSid": call_sid,
                "RecordingSid": recording_sid,
                "RecordingUrl": recording_url,
                "RecordingStatus": "completed",
                "RecordingDuration": str(seconds),
                "RecordingChannels": "1",
                "RecordingSource": "RecordVerb",
                "RecordingStartTime": "",
                "ErrorCode": "0",
            },
        )
        deliver(
            "/webhooks/twilio/voice/?step=recorded",
            {**call, "CallStatus": "in-progress", "RecordingSid": recording_sid},
        )
        duration = seconds + 6
    twilio_fake.end_call(call_sid, "completed", duration)
    return call_sid
