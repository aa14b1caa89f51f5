"""Encryption of outbox payloads with keys kept outside the database.

Each entry of settings.OUTBOX_KEYS is stretched with HKDF into a Fernet key;
the first encrypts, all of them decrypt (so keys can be rotated). The job's
kind is sealed with its payload, so a row's payload cannot be replayed under
another kind.
"""

from __future__ import annotations

import base64
import json
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from numfree.outbox.registry import Payload

_SALT = b"numfree.outbox"
_INFO = b"numfree outbox payload v1"


class UnreadablePayload(Exception):
    """The stored payload cannot be decrypted with the configured keys."""


@lru_cache(maxsize=8)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys or not all(keys):
        raise ImproperlyConfigured("OUTBOX_KEYS (NUMFREE_OUTBOX_KEYS) needs at least one non-empty key")
    return MultiFernet([Fernet(base64.urlsafe_b64encode(_derive(key))) for key in keys])


def _derive(key: str) -> bytes:
    return HKDF(algorithm=SHA256(), length=32, salt=_SALT, info=_INFO).derive(key.encode())


def seal(kind: str, payload: Payload) -> bytes:
    """The encrypted form of a JSON payload, as stored in the job row."""
    if not isinstance(payload, dict):
        raise TypeError("an outbox payload must be a dict (a JSON object)")
    plaintext = json.dumps({"kind": kind, "payload": payload}, separators=(",", ":"), allow_nan=False)
    return _fernet(tuple(settings.OUTBOX_KEYS)).encrypt(plaintext.encode())


def unseal(kind: str, token: bytes | memoryview) -> Payload:
    try:
        sealed = json.loads(_fernet(tuple(settings.OUTBOX_KEYS)).decrypt(bytes(token)))
    except InvalidToken:
        raise UnreadablePayload("the payload does not decrypt with the configured outbox keys") from None
    if sealed.get("kind") != kind:
        raise UnreadablePayload("the payload was sealed for another job kind")
    return sealed["payload"]
