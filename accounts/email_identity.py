"""One identity per email address: the canonical key every lookup, uniqueness check and limit uses.

Two spellings of one mailbox must find one account, on SQLite and PostgreSQL
alike, so the key is computed here in Python and stored (`User.email_key`,
unique); the database only ever compares it byte for byte.

What is canonicalised:
- the whole address is NFKC-normalised, so fullwidth letters and @ (U+FF41.., U+FF20),
  the Kelvin sign (U+212A) and the long s (U+017F) become their plain ASCII letters;
- the part before the @ is compared case-insensitively (casefold);
- the domain is mapped with IDNA (UTS #46: case, width and combining
  characters) and keyed by its ASCII form (`xn--...`); a trailing dot goes.

What is refused for a new address (sign-up, email change, admin):
- a part before the @ that is not plain ASCII after NFKC (dotless i U+0131,
  U+0130, accented or non-Latin letters, combining marks): such spellings are
  lookalikes of ASCII addresses or reach no mailbox at all;
- quoted local parts, domain literals ([192.0.2.1]), domains IDNA refuses,
  addresses over 254 characters (local part over 64).

Nothing else is folded: dots and +tags are parts of a mailbox at many
providers, so alice.b+x@ and alice@ stay two addresses.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

import idna
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

MAX_LENGTH = 254
MAX_LOCAL_LENGTH = 64
# Long enough for any key of an address that was accepted; a legacy row's key
# that would be longer is stored as a digest instead.
KEY_MAX_LENGTH = 320

# RFC 5322 dot-atom: ASCII letters, digits and these signs; dots only between.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCAL_PART = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*\Z")

REFUSED_MESSAGE = (
    "Enter an email address whose part before the @ uses only the letters a to z, digits and signs "
    "such as . _ + -, spelled the way your email provider shows it."
)


@dataclass(frozen=True)
class EmailIdentity:
    address: str  # what is stored and mailed to: the local part as typed, the domain lower-case
    key: str  # the identity: what lookups and uniqueness compare


def _refused() -> ValidationError:
    return ValidationError(REFUSED_MESSAGE, code="email_refused")


def _ascii_domain(domain: str) -> str:
    """The domain's ASCII (A-label) form after IDNA mapping; raises idna.IDNAError/UnicodeError."""
    return idna.encode(domain.removesuffix("."), uts46=True, std3_rules=True).decode("ascii").lower()


def parse_email(raw: str) -> EmailIdentity:
    """The address to store and its key; raises ValidationError (code `email_refused`) for a refused address."""
    text = unicodedata.normalize("NFKC", str(raw).strip())
    local, at, domain = text.rpartition("@")
    if not at or not _LOCAL_PART.match(local) or len(local) > MAX_LOCAL_LENGTH:
        raise _refused()
    try:
        ascii_domain = _ascii_domain(domain)
        display_domain = idna.decode(ascii_domain)
    except (idna.IDNAError, UnicodeError, ValueError):
        raise _refused() from None
    key = f"{local.lower()}@{ascii_domain}"
    address = f"{local}@{display_domain}"
    if len(key) > MAX_LENGTH or len(address) > MAX_LENGTH:
        raise _refused()
    try:
        EmailValidator(allowlist=[])(key)  # the domain's shape (a dot, a real TLD label) as Django checks it
    except ValidationError:
        raise _refused() from None
    return EmailIdentity(address=address, key=key)


def canonical_email(raw: str) -> str:
    """The canonical key of an address that may be used for a new account; raises ValidationError."""
    return parse_email(raw).key


def email_key(value: str) -> str:
    """The key of any text typed as an email (login, reset, contact lookup) or already stored.

    Never raises: for an address parse_email accepts it is exactly
    canonical_email(value); for anything else (legacy rows, garbage typed in a
    login box) the same folding is applied as far as it goes, so a lookup
    finds nothing rather than failing, and old accounts keep working.
    """
    try:
        return canonical_email(value)
    except ValidationError:
        pass
    text = unicodedata.normalize("NFKC", str(value).strip())
    local, at, domain = text.rpartition("@")
    local = unicodedata.normalize("NFKC", local.casefold())
    try:
        domain = _ascii_domain(domain)
    except (idna.IDNAError, UnicodeError, ValueError):
        domain = unicodedata.normalize("NFKC", domain.casefold())
    key = f"{local}{at}{domain}"
    if len(key) > KEY_MAX_LENGTH or any(unicodedata.category(char) in {"Cc", "Cs"} for char in key):
        # Too long for the column, or not storable by PostgreSQL (NUL, lone surrogates).
        return "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    return key
