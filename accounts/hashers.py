"""Password hashers. Production uses Django's BCryptSHA256PasswordHasher."""

from __future__ import annotations

from django.contrib.auth.hashers import BCryptSHA256PasswordHasher


class FastBCryptSHA256PasswordHasher(BCryptSHA256PasswordHasher):
    """The same algorithm and `bcrypt_sha256$` prefix with fewer rounds, for tests only."""

    rounds = 4
