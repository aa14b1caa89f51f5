"""Email: rendered when queued, stored encrypted in the outbox, sent by the worker ("mail.send").

No request waits on the mail server; a failed send is retried with backoff,
not lost. settings.EMAIL_BACKEND decides where mail goes (console in the
embedded mode, SMTP in production, locmem in tests).
"""

from __future__ import annotations

import base64
import smtplib
from collections.abc import Iterable, Mapping, Sequence
from email.utils import make_msgid, parseaddr
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import BadHeaderError, EmailMultiAlternatives
from django.core.validators import validate_email
from django.template import Context, TemplateDoesNotExist
from django.template.loader import get_template

from numfree.outbox import PermanentFailure, enqueue, job

# (filename, content, mimetype); the mimetype may be left out or None.
Attachment = tuple[str, bytes] | tuple[str, bytes, str | None]


def queue_email(
    to: str | Sequence[str],
    subject: str,
    template: str,
    context: Mapping[str, Any],
    attachments: Iterable[Attachment] | None = None,
) -> int | None:
    """Render the email now and queue it in the caller's transaction; returns the outbox job id.

    `template` is the plain-text template (rendered without HTML escaping);
    the same name ending in .html instead of .txt, if it exists, becomes the
    HTML alternative.
    """
    return enqueue("mail.send", _rendered(to, subject, template, context, attachments))


def render_email(
    to: str | Sequence[str],
    subject: str,
    template: str,
    context: Mapping[str, Any],
    attachments: Iterable[Attachment] | None = None,
) -> EmailMultiAlternatives:
    """The same message, for a job that already runs in the worker and sends it itself."""
    return _message(_rendered(to, subject, template, context, attachments))


@job("mail.send")
def send_queued_email(payload: dict) -> None:
    """Outbox job: hand the message to the mail backend (an exception means: retry later)."""
    try:
        _message(payload).send()
    except smtplib.SMTPRecipientsRefused as exc:
        if all(code >= 500 for code, _ in exc.recipients.values()):
            raise PermanentFailure("the mail server refused every recipient") from None
        raise
    except BadHeaderError:
        raise PermanentFailure("a header of the message is invalid") from None


def _rendered(
    to: str | Sequence[str],
    subject: str,
    template: str,
    context: Mapping[str, Any],
    attachments: Iterable[Attachment] | None,
) -> dict[str, Any]:
    recipients = [to] if isinstance(to, str) else list(to)
    if not recipients:
        raise ValueError("an email needs at least one recipient")
    for position, address in enumerate(recipients, start=1):
        try:
            validate_email(address)
        except ValidationError:
            raise ValueError(f"recipient {position} is not an email address") from None
    html_name = template.removesuffix(".txt") + ".html"
    try:
        html_template = get_template(html_name)
    except TemplateDoesNotExist:
        html = None
    else:
        html = html_template.render(dict(context))
    return {
        "to": recipients,
        "subject": " ".join(str(subject).split()),  # a newline would make the header invalid
        "text": get_template(template).template.render(Context(dict(context), autoescape=False)),
        "html": html,
        "attachments": [_encoded(attachment) for attachment in attachments or ()],
        # Fixed now, so a message sent again after a crash carries the same id
        # and mail clients show it once.
        "message_id": make_msgid(domain=parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or None),
    }


def _encoded(attachment: Attachment) -> dict[str, str | None]:
    filename, content, *rest = attachment
    if not isinstance(content, bytes):
        raise TypeError("attachment content must be bytes")
    mimetype = rest[0] if rest else None
    return {"filename": str(filename), "mimetype": mimetype, "content": base64.b64encode(content).decode("ascii")}


def _message(payload: Mapping[str, Any]) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=payload["subject"],
        body=payload["text"],
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=payload["to"],
        headers={"Message-ID": payload["message_id"]},
    )
    if payload.get("html"):
        message.attach_alternative(payload["html"], "text/html")
    for attachment in payload.get("attachments", ()):
        message.attach(attachment["filename"], base64.b64decode(attachment["content"]), attachment["mimetype"])
    return message
