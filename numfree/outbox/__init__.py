"""The durable outbox: work that must survive a crash, done by `manage.py worker` with retries.

    from numfree.outbox import enqueue, job, periodic, PermanentFailure

    @job("telephony.forward_sms", max_attempts=20, expires_after=timedelta(hours=72), on_expire=notify)
    def forward_sms(payload: dict) -> None: ...          # in <app>/jobs.py

    @job("telephony.delete_message", retry_for=timedelta(days=30), max_delay=timedelta(hours=6))
    def delete_message(payload: dict) -> None: ...       # retried for 30 days, at most 6 h apart

    enqueue("telephony.forward_sms", {"log_id": 1}, delay=None, dedupe_key=None, reference="")

docs/worker.md says what the outbox guarantees.
"""

from __future__ import annotations

from datetime import timedelta

from numfree.outbox.registry import PermanentFailure, RetryLater, job, periodic

__all__ = ["PermanentFailure", "RetryLater", "enqueue", "job", "periodic"]


def enqueue(
    kind: str,
    payload: dict,
    delay: timedelta | float | None = None,
    dedupe_key: str | None = None,
    reference: str = "",
    sequence: str = "",
) -> int | None:
    """Queue a job in the caller's transaction (it commits or rolls back with it).

    `payload` is a JSON object, stored encrypted; `delay` (a timedelta or
    seconds) postpones the first run. With `dedupe_key`, a job is queued only
    if no pending job has that key: returns the new job's id, or None.
    `reference` (clear text, ids only, at most 100 characters) says what the job
    is done for, so those jobs can be listed (`Job.objects.referring_to(...)`).
    Jobs with the same `sequence` (clear text, ids only) run one at a time, in
    the order queued: a pending job holds back the later ones, so such a kind
    wants a short `max_delay` (and `retry_for` rather than `max_attempts`).
    Raises LookupError for a kind no jobs.py registers.
    """
    # Imported here: this package is loaded while apps load, before models can be.
    from numfree.outbox.scheduling import enqueue as enqueue_job

    return enqueue_job(kind, payload, delay, dedupe_key, reference, sequence)
