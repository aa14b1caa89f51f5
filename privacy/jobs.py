"""Worker jobs of the privacy app: exports, account erasure, retention purge (and its files) and the request digest."""

from __future__ import annotations

from datetime import timedelta

from numfree.outbox import job, periodic
from privacy import erasure, exports, retention, subject_requests


@job("privacy.build_export", max_attempts=5, expires_after=timedelta(hours=6), on_expire=exports.give_up)
def build_export(payload: dict) -> None:
    exports.build_archive(payload["archive_id"], payload.get("request_id"))


def _erasure_given_up(payload: dict) -> None:
    erasure.flag_for_support(payload.get("request_id"), "privacy.erase_account was given up; see the outbox")


@job("privacy.erase_account", max_attempts=50, expires_after=timedelta(days=20), on_expire=_erasure_given_up)
def erase_account(payload: dict) -> None:
    erasure.erase_account(payload["user_id"], payload.get("request_id"))


@periodic("privacy.purge_expired", every=timedelta(hours=1))
def purge_expired(payload: dict) -> None:
    retention.purge_expired()


@job("privacy.delete_files", max_attempts=30)
def delete_files(payload: dict) -> None:
    retention.delete_files(payload["names"])


@periodic("privacy.delete_expired_exports", every=timedelta(hours=1))
def delete_expired_exports(payload: dict) -> None:
    exports.delete_expired()


@periodic("privacy.request_digest", every=timedelta(days=1))
def request_digest(payload: dict) -> None:
    subject_requests.send_digest()
