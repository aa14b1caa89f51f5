"""A local durable spool for inbound texts that arrive while the database is down.

Twilio does not retry an inbound-SMS webhook, so when `receive_sms` hits a
database error the web process writes the webhook's fields to
DATA_DIR/sms-spool/<MessageSid>.sms, encrypted like outbox payloads (the same
keys, numfree/outbox/crypto.py), fsync'd and renamed into place, and answers
Twilio 200. The file holds ciphertext only. `drain` feeds the files back to
`receive_sms` (idempotent by MessageSid) and removes them: the web process does
it on its next text, before receiving that one (the spool is on its disk), and
the reconciliation job on every run (telephony/reconcile.py).
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

from django.conf import settings
from django.db import InterfaceError, OperationalError

from numfree.outbox import crypto
from telephony import forwarding

logger = logging.getLogger(__name__)
# Sealed under this name, so a spooled text cannot be replayed as an outbox job or vice versa.
KIND = "telephony.sms_spool"
SUFFIX = ".sms"
_SID = re.compile(r"^(SM|MM)[0-9a-f]{32}$")
# The only webhook fields receive_sms reads; Twilio's location fields are not kept.
_FIELDS = re.compile(r"^(MessageSid|To|From|Body|NumMedia|NumSegments|MediaUrl\d)$")
# A temporary file this old was left by a crash between write and rename: its text is still at
# Twilio (never answered 200 or never renamed), and the reconciliation takes it from there.
STALE_PART_SECONDS = 600
DRAIN_BATCH = 20


class DatabaseDown(Exception):
    """Raised by `drain` when the database is still unavailable."""


def receive_durably(params: Mapping[str, str]) -> None:
    """The SMS webhook: spooled texts first (so the user gets them in the order received), then
    this one, spooled if the database is down. Once this returns, the text is kept."""
    if pending():
        try:
            drain()
        except DatabaseDown:
            pass
        except Exception as exc:  # a spooled text must never cost the one arriving now (the worker retries it)
            logger.warning("draining the sms spool failed: %s", type(exc).__name__)
    try:
        forwarding.receive_sms(params)
    except (OperationalError, InterfaceError):
        # Twilio does not retry an inbound text: keep it (encrypted) until the database is back.
        write(params)
        logger.warning("database unavailable: sms spooled")


def directory() -> Path:
    return Path(settings.DATA_DIR) / "sms-spool"


def write(params: Mapping[str, str]) -> Path:
    """Keep a validated webhook's fields on disk, encrypted; returns the file. Durable once it returns."""
    sid = params.get("MessageSid", "")
    if not _SID.match(sid):
        raise ValueError("not a Twilio message sid")
    fields = {key: str(params[key]) for key in params if _FIELDS.match(key)}
    sealed = crypto.seal(KIND, fields)
    folder = directory()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(sealed)
            out.flush()
            os.fsync(out.fileno())
        target = folder / f"{sid}{SUFFIX}"
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_directory(folder)
    return target


def _fsync_directory(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def pending() -> list[Path]:
    """Spooled texts, oldest first."""
    folder = directory()
    if not folder.is_dir():
        return []
    found = []
    for path in folder.glob(f"*{SUFFIX}"):
        try:
            found.append((path.stat().st_mtime, path))
        except FileNotFoundError:
            continue  # another process drained it meanwhile
    return [path for _mtime, path in sorted(found)]


def drain(limit: int = DRAIN_BATCH) -> int:
    """Receive up to `limit` spooled texts as the webhook would, removing each file once done;
    returns how many. Raises DatabaseDown (and keeps the file) if the database is still down."""
    done = 0
    for path in pending()[:limit]:
        try:
            token = path.read_bytes()
        except FileNotFoundError:
            continue
        try:
            params = crypto.unseal(KIND, token)
        except crypto.UnreadablePayload:
            # Sealed with a key no longer configured: nothing can read it; the text is still at Twilio.
            logger.warning("spooled sms %s does not decrypt with the configured keys; left for the operator", path.name)
            path.rename(path.with_suffix(".unreadable"))
            continue
        try:
            forwarding.receive_sms(params)
        except (OperationalError, InterfaceError) as exc:
            raise DatabaseDown(type(exc).__name__) from None
        path.unlink(missing_ok=True)
        done += 1
    _remove_stale_parts()
    if done:
        logger.info("%d spooled sms received", done)
    return done


def _remove_stale_parts() -> None:
    cutoff = time.time() - STALE_PART_SECONDS
    for part in directory().glob(".*.part"):
        try:
            if part.stat().st_mtime < cutoff:
                part.unlink()
        except FileNotFoundError:
            continue
