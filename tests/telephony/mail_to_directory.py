"""Django's file-based mail backend, with its directory from NUMFREE_TEST_MAIL_DIR, for web and worker
processes a test starts (settings read EMAIL_BACKEND from the environment, not EMAIL_FILE_PATH)."""

from __future__ import annotations

import os
from typing import Any

from django.core.mail.backends.filebased import EmailBackend


class DirectoryEmailBackend(EmailBackend):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("file_path", os.environ["NUMFREE_TEST_MAIL_DIR"])
        super().__init__(*args, **kwargs)
