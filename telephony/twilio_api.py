"""The one module that talks to Twilio (through the official SDK); Twilio errors become ours.

In embedded mode and in tests the SDK's HTTP client is telephony/twilio_fake.py,
so this same code runs against a local fake of Twilio's REST API.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from django.conf import settings
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from numfree.outbox import RetryLater

logger = logging.getLogger(__name__)
# The SDK logs every request URL and its headers at INFO; keep that out of our logs.
_sdk_logger = logging.getLogger("twilio.http_client")
_sdk_logger.setLevel(logging.WARNING)

# Twilio error codes we act on (https://www.twilio.com/docs/api/errors).
NOT_FOUND_CODE = 20404
DELETE_TOO_EARLY_CODE = 20009
NUMBER_UNAVAILABLE_CODES = {21422, 21452}
API_ORIGIN = "https://api.twilio.com"


class TelephonyError(Exception):
    """Twilio refused or could not be reached; the message is safe to show."""

    def __init__(self, message: str, *, code: int | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class NotFoundAtTwilio(TelephonyError):
    """The resource is not (or no longer) at Twilio."""


class NotYetDeletable(TelephonyError, RetryLater):
    """Twilio cannot delete a message still in progress; retry later (routine: logged at INFO)."""


class NumberUnavailable(TelephonyError):
    """The number was taken by someone else between search and purchase."""


class TwilioUnreachable(TelephonyError):
    """Network error or a 5xx: retry later."""


@dataclass(frozen=True)
class AvailableNumber:
    e164: str
    friendly_name: str
    locality: str
    region: str


@dataclass(frozen=True)
class BoughtNumber:
    sid: str
    e164: str


class NumFreeHttpClient(TwilioHttpClient):
    """The SDK's own client, plus a way to download media (recordings, MMS) as bytes."""

    def fetch_bytes(self, url: str, auth: tuple[str, str]) -> tuple[bytes, str]:
        session = self.session
        assert session is not None
        response = session.get(url, auth=auth, timeout=self.timeout, allow_redirects=True)
        if response.status_code >= 400:
            raise _error_for(response.status_code, None, "media download failed")
        return response.content, response.headers.get("Content-Type", "application/octet-stream")


def _fake_credentials() -> tuple[str, str]:
    """A fixed account SID and auth token per install (derived from SECRET_KEY),
    so the simulation panel can sign webhooks the way Twilio would."""
    digest = hmac.new(settings.SECRET_KEY.encode(), b"numfree.twilio-fake", hashlib.sha256).hexdigest()
    return "AC" + digest[:32], digest[32:64]


def account_sid() -> str:
    return _fake_credentials()[0] if settings.TWILIO_FAKE else settings.TWILIO_ACCOUNT_SID


def auth_token() -> str:
    return _fake_credentials()[1] if settings.TWILIO_FAKE else settings.TWILIO_AUTH_TOKEN


@cache
def _client(fake: bool, sid: str, token: str) -> Client:
    if fake:
        from telephony.twilio_fake import FakeTwilioHttpClient

        http_client: TwilioHttpClient = FakeTwilioHttpClient(sid, token)
    else:
        http_client = NumFreeHttpClient(timeout=settings.TWILIO_TIMEOUT_SECONDS, logger=_sdk_logger, max_retries=1)
    return Client(sid, token, http_client=http_client)


def client() -> Client:
    return _client(settings.TWILIO_FAKE, account_sid(), auth_token())


def _error_for(status: int, code: int | None, message: str) -> TelephonyError:
    if code == DELETE_TOO_EARLY_CODE:
        return NotYetDeletable(message, code=code, status=status)
    if code == NOT_FOUND_CODE or status == 404:
        return NotFoundAtTwilio(message, code=code, status=status)
    if code in NUMBER_UNAVAILABLE_CODES:
        return NumberUnavailable(message, code=code, status=status)
    if status >= 500 or status == 429:
        return TwilioUnreachable(message, code=code, status=status)
    return TelephonyError(message, code=code, status=status)


def _page_error(exc: BaseException) -> tuple[int, int | None] | None:
    """(status, code) of a failed list request: the SDK raises a plain
    TwilioException("Unable to fetch page", response) for those."""
    if not isinstance(exc, TwilioException) or len(exc.args) < 2 or not hasattr(exc.args[1], "status_code"):
        return None
    response = exc.args[1]
    try:
        code = json.loads(response.text).get("code")
    except (ValueError, AttributeError):
        code = None
    return response.status_code, code


class _translated:
    """Context manager: TwilioRestException / network errors -> our exceptions."""

    def __init__(self, action: str) -> None:
        self.action = action

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> bool:
        if exc is None:
            return False
        if isinstance(exc, TwilioRestException):
            # Twilio's message can echo parameters back; log only the codes. A message still in
            # progress (20009) is routine: the deletion simply retries later.
            level = logging.INFO if exc.code == DELETE_TOO_EARLY_CODE else logging.WARNING
            logger.log(level, "twilio %s failed: status=%s code=%s", self.action, exc.status, exc.code)
            raise _error_for(exc.status, exc.code, f"Twilio could not {self.action} (error {exc.code}).") from None
        page_error = _page_error(exc)
        if page_error is not None:
            status, code = page_error
            logger.warning("twilio %s failed: status=%s code=%s", self.action, status, code)
            raise _error_for(status, code, f"Twilio could not {self.action} (error {code}).") from None
        if isinstance(exc, TwilioException | OSError) or type(exc).__module__.startswith("requests"):
            logger.warning("twilio %s failed: %s", self.action, type(exc).__name__)
            raise TwilioUnreachable(f"Twilio could not be reached to {self.action}.") from None
        return False


def search_numbers(country: str, area_code: str, limit: int = 10) -> list[AvailableNumber]:
    with _translated("search numbers"):
        found = client().available_phone_numbers(country).local.list(area_code=area_code, limit=limit)
    return [
        AvailableNumber(
            e164=item.phone_number,
            friendly_name=item.friendly_name,
            locality=item.locality or "",
            region=item.region or "",
        )
        for item in found
    ]


def webhook_urls() -> dict[str, str]:
    base = settings.PUBLIC_URL.rstrip("/")
    return {
        "sms_url": base + "/webhooks/twilio/sms/",
        "sms_fallback_url": base + "/webhooks/twilio/sms/",
        "voice_url": base + "/webhooks/twilio/voice/",
        "voice_fallback_url": base + "/webhooks/twilio/voice/",
        "status_callback": base + "/webhooks/twilio/voice/status/",
    }


def buy_number(e164: str) -> BoughtNumber:
    """Buy the number with every webhook URL pointing at us."""
    urls = webhook_urls()
    with _translated("buy the number"):
        bought = client().incoming_phone_numbers.create(
            phone_number=e164,
            sms_url=urls["sms_url"],
            sms_method="POST",
            sms_fallback_url=urls["sms_fallback_url"],
            sms_fallback_method="POST",
            voice_url=urls["voice_url"],
            voice_method="POST",
            voice_fallback_url=urls["voice_fallback_url"],
            voice_fallback_method="POST",
            status_callback=urls["status_callback"],
            status_callback_method="POST",
        )
    return BoughtNumber(sid=bought.sid, e164=bought.phone_number)


def release_number(sid: str) -> None:
    """Release a number; one that is already gone counts as released."""
    try:
        with _translated("release the number"):
            client().incoming_phone_numbers(sid).delete()
    except NotFoundAtTwilio:
        pass


@dataclass(frozen=True)
class SentMessage:
    sid: str
    status: str
    segments: int


def send_sms(from_: str, to: str, body: str) -> SentMessage:
    """Send a text; Twilio calls the SMS status webhook as it moves. The body is not kept by us."""
    status_callback = settings.PUBLIC_URL.rstrip("/") + "/webhooks/twilio/sms/status/"
    with _translated("send the message"):
        message = client().messages.create(from_=from_, to=to, body=body, status_callback=status_callback)
    try:
        segments = max(1, int(message.num_segments or 1))
    except ValueError:
        segments = 1
    return SentMessage(sid=message.sid, status=message.status, segments=segments)


def delete_message(sid: str) -> None:
    """Delete a message and its media at Twilio. Already gone counts as deleted.

    Raises NotYetDeletable while Twilio still processes it (retry later).
    """
    try:
        with _translated("list the message's media"):
            media = client().messages(sid).media.list(limit=20)
        for item in media:
            with _translated("delete the message's media"):
                client().messages(sid).media(item.sid).delete()
        with _translated("delete the message"):
            client().messages(sid).delete()
    except NotFoundAtTwilio:
        pass


@dataclass(frozen=True)
class InboundMessage:
    """A text Twilio received for one of our numbers, as its webhook would have carried it."""

    sid: str
    sender: str
    to: str
    body: str
    segments: int
    media_urls: tuple[str, ...]
    sent_at: datetime | None


# At most this many texts per number and check (50 pages): a longer list is taken over several checks.
INBOUND_LIST_LIMIT = 5000


def inbound_messages(to: str, since: datetime) -> list[InboundMessage]:
    """Texts Twilio holds that were sent to `to` on or after `since`, oldest first (the Messages list,
    paged by the SDK). Texts we sent are left out."""
    found = []
    with _translated("list the number's messages"):
        for message in client().messages.stream(to=to, date_sent_after=since, page_size=100, limit=INBOUND_LIST_LIMIT):
            if message.direction != "inbound":
                continue
            media: tuple[str, ...] = ()
            if int(message.num_media or 0):
                items = client().messages(message.sid).media.list(limit=20)
                media = tuple(API_ORIGIN + item.uri.removesuffix(".json") for item in items)
            found.append(
                InboundMessage(
                    sid=message.sid,
                    sender=message.from_ or "",
                    to=message.to or "",
                    body=message.body or "",
                    segments=int(message.num_segments or 1),
                    media_urls=media,
                    sent_at=message.date_sent,
                )
            )
    # Twilio lists newest first, to the second: reversed, then a stable sort keeps arrival order within a second.
    return sorted(reversed(found), key=lambda item: (item.sent_at is None, item.sent_at or since))


def _download(url: str) -> tuple[bytes, str]:
    http_client = client().http_client
    with _translated("download media"):
        return http_client.fetch_bytes(url, (account_sid(), auth_token()))  # type: ignore[attr-defined]


def fetch_media(url: str) -> tuple[bytes, str]:
    """An MMS attachment (MediaUrlN of the inbound webhook): (content, content type)."""
    if not url.startswith("https://api.twilio.com/"):
        raise TelephonyError("Media URLs must be Twilio's.")
    return _download(url)


def fetch_recording(sid: str) -> bytes:
    """A recording's audio as MP3."""
    with _translated("fetch the recording"):
        recording = client().recordings(sid).fetch()
    uri = recording.uri.removesuffix(".json")
    content, _type = _download(f"https://api.twilio.com{uri}.mp3")
    return content


def delete_recording(sid: str) -> None:
    try:
        with _translated("delete the recording"):
            client().recordings(sid).delete()
    except NotFoundAtTwilio:
        pass


def is_valid_signature(url: str, params: dict[str, str], signature: str) -> bool:
    """Twilio's X-Twilio-Signature check (HMAC-SHA1 of URL + sorted params)."""
    if not signature:
        return False
    return RequestValidator(auth_token()).validate(url, params, signature)


def signature_for(url: str, params: dict[str, str]) -> str:
    """The signature Twilio would send; used by the simulation panel and tests."""
    return RequestValidator(auth_token()).compute_signature(url, params)
