"""manage.py purge_expired [--dry-run]: delete what is older than the retention period."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from privacy.retention import purge_expired, retention_cutoff


class Command(BaseCommand):
    help = "Delete call and SMS logs, voicemails and usage data older than RETENTION_DAYS."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="only count what would be deleted")

    def handle(self, *args: Any, dry_run: bool = False, **options: Any) -> None:
        counts = purge_expired(dry_run=dry_run)
        verb = "Would delete" if dry_run else "Deleted"
        cutoff = retention_cutoff()
        self.stdout.write(f"Retention: {settings.RETENTION_DAYS} days (before {cutoff:%Y-%m-%d %H:%M} UTC)")
        for kind, count in counts.items():
            self.stdout.write(f"{verb} {count} {kind}")
        if not counts:
            self.stdout.write("No app registered anything to purge.")
