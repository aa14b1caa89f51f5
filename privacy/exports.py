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
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from privacy import export_schema, subject_requests
from privacy.models import DataSubjectRequest, ExportArchive
from privacy.registry import AppPersonalData, ExportPart, registered

if TYPE_CHECKING:
    from accounts.models import User


def collect(user: User) -> list[tuple[AppPersonalData, ExportPart]]:
    """Every app's part of this user's data, asked through the registry."""
    return [(entry, entry.export(user)) for entry in registered() if entry.export is not None]


def request_export(user: User) -> ExportArchive:
    """Record the request and queue the build; the page shows its progress."""
    from numfree.outbox import enqueue

    with transaction.atomic():
        request = subject_requests.record_from_center(user, DataSubjectRequest.EXPORT, status="in_progress")
        archive = ExportArchive.objects.create(user=user, expires_at=timezone.now() + _lifetime())
        enqueue("privacy.build_export", {"archive_id": str(archive.pk), "request_id": request.pk})
    return archive


def _lifetime() -> timedelta:
    return timedelta(hours=settings.PRIVACY_EXPORT_HOURS)


def _progress(archive: ExportArchive, percent: int) -> None:
    # Each update commits at once so the page polling it sees the progress.
    ExportArchive.objects.filter(pk=archive.pk).update(progress=percent, status=ExportArchive.BUILDING)


def build_archive(archive_id: str, request_id: int | None = None) -> ExportArchive | None:
    archive = ExportArchive.objects.select_related("user").filter(pk=archive_id).first()
    if archive is None or archive.status == ExportArchive.READY:
        return archive  # deleted meanwhile, or a repeated job
    _progress(archive, 1)
    parts: list[tuple[AppPersonalData, ExportPart]] = []
    entries = [entry for entry in registered() if entry.export is not None]
    for number, entry in enumerate(entries, start=1):
        parts.append((entry, entry.export(archive.user)))
        _progress(archive, int(90 * number / len(entries)))
    content = zip_bytes(parts, created_at=timezone.now())
    name = default_storage.save(f"exports/{archive.pk}.zip", ContentFile(content))
    now = timezone.now()
    archive.file_name, archive.size, archive.status, archive.progress = name, len(content), ExportArchive.READY, 100
    archive.ready_at, archive.expires_at = now, now + _lifetime()
    archive.save()
    if request_id:
        request = DataSubjectRequest.objects.filter(pk=request_id).first()
        if request is not None:
            subject_requests.mark_fulfilled(request)
    return archive


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
    if archive.file_name:
        default_storage.delete(archive.file_name)
    archive.delete()


def delete_expired(now: datetime | None = None) -> int:
    expired = list(ExportArchive.objects.filter(expires_at__lte=now or timezone.now()))
    for archive in expired:
        delete_archive(archive)
    return len(expired)
