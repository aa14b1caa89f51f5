"""Keys kept outside the database: sealing TOTP secrets and hashing recovery codes.

Each entry of settings.TWO_FACTOR_KEYS (NUMFREE_TWO_FACTOR_KEYS, by default
SECRET_KEY and its fallbacks) is stretched with HKDF into a Fernet key for the
secrets and an HMAC key for the recovery codes. The first entry seals and
hashes; all of them open and match, so keys can be rotated. A sealed secret
names the account it belongs to, and a recovery code's hash includes the
account's id: a row copied to another account is worthless there.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

_SALT = b"numfree.twofactor"


class UnreadableSecret(Exception):
    """The sealed secret does not open with the configured keys, or belongs to another account."""


def _derive(key: str, info: bytes) -> bytes:
    return HKDF(algorithm=SHA256(), length=32, salt=_SALT, info=info).derive(key.encode())


@lru_cache(maxsize=8)
def _keys(keys: tuple[str, ...]) -> tuple[MultiFernet, tuple[bytes, ...]]:
    if not keys or not all(keys):
        raise ImproperlyConfigured("TWO_FACTOR_KEYS (NUMFREE_TWO_FACTOR_KEYS) needs at least one non-empty key")
    fernet = MultiFernet(
        [Fernet(base64.urlsafe_b64encode(_derive(key, b"numfree two-factor secret v1"))) for key in keys]
    )
    hmac_keys = tuple(_derive(key, b"numfree two-factor recovery code v1") for key in keys)
    return fernet, hmac_keys


def _configured() -> tuple[MultiFernet, tuple[bytes, ...]]:
    return _keys(tuple(settings.TWO_FACTOR_KEYS))


def seal_secret(user_id: int, secret: str) -> bytes:
    plaintext = json.dumps({"user": user_id, "secret": secret}, separators=(",", ":"))
    return _configured()[0].encrypt(plaintext.encode())


def open_secret(user_id: int, sealed: bytes | memoryview) -> str:
    try:
        opened = json.loads(_configured()[0].decrypt(bytes(sealed)))
    except InvalidToken:
        raise UnreadableSecret("the secret does not open with the configured two-factor keys") from None
    if opened.get("user") != user_id:
        raise UnreadableSecret("the secret was sealed for another account")
    return str(opened["secret"])


def recovery_digests(user_id: int, normalized_code: str) -> list[str]:
    """The code's hash under every configured key; the first is the one stored for new codes."""
    message = f"{user_id}:{normalized_code}".encode()
    return [hmac.new(key, message, hashlib.sha256).hexdigest() for key in _configured()[1]]
