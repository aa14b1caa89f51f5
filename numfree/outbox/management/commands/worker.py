"""`manage.py worker`: runs outbox jobs (the Procfile's worker: line)."""

from __future__ import annotations

import signal
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from numfree.outbox.worker import Worker


class Command(BaseCommand):
    help = (
        "Run outbox jobs until stopped. SIGTERM or SIGINT lets the current job finish, then exits. "
        "Several workers may run at once on PostgreSQL; run one on SQLite."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--burst", action="store_true", help="exit once no job is due")
        parser.add_argument("--max-jobs", type=int, metavar="N", help="exit after running N jobs")

    def handle(self, *args: Any, burst: bool, max_jobs: int | None, **options: Any) -> None:
        if max_jobs is not None and max_jobs < 1:
            raise CommandError("--max-jobs must be at least 1")
        worker = Worker()

        def stop(signum: int, frame: FrameType | None) -> None:
            # Only a flag: the job in progress runs to its end.
            worker.stop(signal.Signals(signum).name)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        worker.run(burst=burst, max_jobs=max_jobs)
