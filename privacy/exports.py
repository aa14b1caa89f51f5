"""Data export: every registered app's part of a user's data, as a zip built by the worker.

The archive holds manifest.json, README.txt, data/<app>.json, the JSON Schema
of each (schemas/<app>.schema.json) and the app's files (files/<app>/...,
e.g. voicemail audio). Only its owner can download it, for 24 hours.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone

from privacy import export_schema, subject_requests
from privacy.models import DataSubjectRequest, ExportArchive
from privacy.registry import AppPersonalData, ExportPart, registered

if TYPE_CHECKING:
    from accounts.models import User


def request_export(user: User) -> tuple[ExportArchive, bool]:
    """Queue a build, unless one is already under way: then that one. True when a new one was queued.

    One export in progress per user is a unique index on the table, so two
    requests at once cannot both insert (the second gets the first's row).
    """
    from numfree.outbox import enqueue

    for _attempt in range(3):
        try:
            with transaction.atomic():
                archive = ExportArchive.objects.create(user=user, expires_at=timezone.now() + _lifetime())
                request = subject_requests.record_from_center(user, DataSubjectRequest.EXPORT, status="in_progress")
                enqueue("privacy.build_export", {"archive_id": str(archive.pk), "request_id": request.pk})
            return archive, True
        except IntegrityError:
            under_way = ExportArchive.objects.filter(user=user, status__in=ExportArchive.IN_PROGRESS).first()
            if under_way is not None:
                return under_way, False
            # It was finished between our insert and this read: try again.
    raise RuntimeError("could not queue an export")


def _lifetime() -> timedelta:
    return timedelta(hours=settings.PRIVACY_EXPORT_HOURS)


def file_name_of(archive_id: object) -> str:
    """Where an archive's zip is stored: derived from its id, so anyone deleting the row can delete the file too."""
    return f"exports/{archive_id}.zip"


def _exportable() -> QuerySet[ExportArchive]:
    """Archives whose account still exists, is active and has no deletion under way."""
    being_erased = DataSubjectRequest.objects.open().filter(kind=DataSubjectRequest.DELETION, user__isnull=False)
    return ExportArchive.objects.filter(user__is_active=True).exclude(user__in=being_erased.values("user"))


def _progress(archive: ExportArchive, percent: int) -> None:
    # Each update commits at once so the page polling it sees the progress.
    ExportArchive.objects.filter(pk=archive.pk, status__in=ExportArchive.IN_PROGRESS).update(
        progress=percent, status=ExportArchive.BUILDING
    )


def build_archive(archive_id: str, request_id: int | None = None) -> ExportArchive | None:
    archive = ExportArchive.objects.select_related("user").filter(pk=archive_id).first()
    if archive is None or archive.status not in ExportArchive.IN_PROGRESS:
        return archive  # deleted meanwhile, or a repeated job
    if not _exportable().filter(pk=archive.pk).exists():
        give_up({"archive_id": archive_id})  # the account is being erased or was disabled
        return None
    _progress(archive, 1)
    parts: list[tuple[AppPersonalData, ExportPart]] = []
    entries = [entry for entry in registered() if entry.export is not None]
    for number, entry in enumerate(entries, start=1):
        parts.append((entry, entry.export(archive.user)))
        _progress(archive, int(90 * number / len(entries)))
    if not _store(archive, zip_bytes(parts, created_at=timezone.now())):
        give_up({"archive_id": archive_id})
        return None
    if request_id:
        request = DataSubjectRequest.objects.filter(pk=request_id).first()
        if request is not None:
            subject_requests.mark_fulfilled(request)
    archive.refresh_from_db()
    return archive


def _store(archive: ExportArchive, content: bytes) -> bool:
    """Mark the archive ready and write its zip, only if its account may still have it.

    The conditional UPDATE comes first: it locks the row (PostgreSQL) or takes
    the database's write lock (SQLite), so an erasure either finished before it
    (no row, or a disabled account: nothing is written) or deletes the row and
    then the file after this commits (delete_archive). Whatever goes wrong
    after the file is written, the file goes too.
    """
    name, now = file_name_of(archive.pk), timezone.now()
    try:
        with transaction.atomic():
            marked = (
                _exportable()
                .filter(pk=archive.pk, status__in=ExportArchive.IN_PROGRESS)
                .update(
                    status=ExportArchive.READY,
                    progress=100,
                    file_name=name,
                    size=len(content),
                    ready_at=now,
                    expires_at=now + _lifetime(),
                )
            )
            if not marked:
                return False
            default_storage.delete(name)  # a crashed earlier attempt's file: save() would pick another name
            if default_storage.save(name, ContentFile(content)) != name:
                raise RuntimeError("the export's file name was taken")
    except BaseException:
        default_storage.delete(name)
        raise
    return True


def give_up(payload: dict) -> None:
    """The build cannot finish (retries exhausted, or the account is going): failed, and no file left."""
    ExportArchive.objects.filter(pk=payload["archive_id"], status__in=ExportArchive.IN_PROGRESS).update(
        status=ExportArchive.FAILED
    )
    default_storage.delete(file_name_of(payload["archive_id"]))


def zip_bytes(parts: list[tuple[AppPersonalData, ExportPart]], *, created_at: datetime) -> bytes:
    buffer = io.BytesIO()
    files = []
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for entry, part in parts:
            data_path, schema_path = f"data/{entry.app_label}.json", f"schemas/{entry.app_label}.schema.json"
            archive.writestr(data_path, json.dumps(part.data, indent=2, ensure_ascii=False, sort_keys=True))
            archive.writestr(schema_path, json.dumps(part.schema, indent=2, sort_keys=True))
            files.append({"path": data_path, "app": entry.app_label, "category": part.category, "schema": schema_path})
            for file_name, content in part.files.items():
                path = f"files/{entry.app_label}/{file_name}"
                archive.writestr(path, content)
                files.append({"path": path, "app": entry.app_label, "category": part.category, "schema": None})
        manifest = {
            "format": "numfree-export",
            "format_version": export_schema.FORMAT_VERSION,
            "created_at": created_at.isoformat(),
            "files": files,
        }
        archive.writestr("manifest.json", json.dumps(manifest, indent=2))
        archive.writestr("schemas/manifest.schema.json", json.dumps(export_schema.MANIFEST, indent=2, sort_keys=True))
        archive.writestr(
            "README.txt",
            render_to_string(
                "privacy/export_readme.txt", {"manifest": manifest, "version": export_schema.FORMAT_VERSION}
            ),
        )
    return buffer.getvalue()


def archive_of(user: User, archive_id: object) -> ExportArchive | None:
    """The one ownership check for exports: someone else's archive does not exist for you."""
    return ExportArchive.objects.filter(pk=archive_id, user=user).first()


def is_downloadable(archive: ExportArchive, now: datetime | None = None) -> bool:
    return archive.status == ExportArchive.READY and archive.expires_at > (now or timezone.now())


def delete_archive(archive: ExportArchive) -> None:
    """Delete the row, then its file.

    The row goes first: on PostgreSQL the DELETE waits for a build that holds
    the row (_store) to commit its file. The file is found by the archive's
    id, not by this possibly stale copy of the row, so that file goes too.
    """
    ExportArchive.objects.filter(pk=archive.pk).delete()
    for name in {file_name_of(archive.pk), archive.file_name} - {""}:
        default_storage.delete(name)


def delete_expired(now: datetime | None = None) -> int:
    expired = list(ExportArchive.objects.filter(expires_at__lte=now or timezone.now()))
    for archive in expired:
        delete_archive(archive)
    return len(expired)
