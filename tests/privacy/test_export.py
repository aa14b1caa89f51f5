"""Export: a zip built by the worker, valid against its documented schema, for its owner for 24 hours."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import jsonschema
import pytest
import time_machine
from django.utils import timezone

from privacy.models import DataSubjectRequest, ExportArchive, PageView


def _export(client, drain) -> ExportArchive:
    response = client.post("/privacy/center/export/")
    assert response.status_code == 302
    archive = ExportArchive.objects.get()
    assert response["Location"] == f"/privacy/center/export/{archive.pk}/"
    drain()
    archive.refresh_from_db()
    return archive


def _zip(response) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


@pytest.mark.django_db
def test_the_export_page_shows_progress_until_the_worker_has_built_it(alice_client, drain):
    alice_client.post("/privacy/center/export/")
    archive = ExportArchive.objects.get()
    page = alice_client.get(f"/privacy/center/export/{archive.pk}/").content.decode()
    assert "<progress" in page and 'http-equiv="refresh"' in page
    drain()
    page = alice_client.get(f"/privacy/center/export/{archive.pk}/").content.decode()
    assert "Download" in page and "<progress" not in page


@pytest.mark.django_db
def test_every_json_file_of_the_export_validates_against_its_schema(alice_client, alice, drain):
    PageView.objects.create(user=alice, ip="198.51.100.7", browser="Firefox", path="/dashboard/")
    archive = _export(alice_client, drain)
    bundle = _zip(alice_client.get(f"/privacy/center/export/{archive.pk}/download/"))
    manifest = json.loads(bundle.read("manifest.json"))
    jsonschema.validate(manifest, json.loads(bundle.read("schemas/manifest.schema.json")))
    checked = 0
    for entry in manifest["files"]:
        if entry["schema"]:
            schema = json.loads(bundle.read(entry["schema"]))
            jsonschema.Draft202012Validator.check_schema(schema)
            jsonschema.validate(
                json.loads(bundle.read(entry["path"])), schema, format_checker=jsonschema.FormatChecker()
            )
            checked += 1
    assert checked >= 4
    assert json.loads(bundle.read("data/accounts.json"))["email"] == "alice@example.com"
    assert json.loads(bundle.read("data/privacy.json"))["page_views"][0]["path"] == "/dashboard/"
    assert "README.txt" in bundle.namelist()


@pytest.mark.django_db
def test_the_export_lists_staff_access_to_the_data(alice_client, alice, staff, drain):
    from privacy.models import StaffAccess

    StaffAccess.objects.create(staff=staff, staff_label=staff.email, subject=alice, what="User #1 (change page)")
    archive = _export(alice_client, drain)
    bundle = _zip(alice_client.get(f"/privacy/center/export/{archive.pk}/download/"))
    assert json.loads(bundle.read("data/privacy.json"))["staff_access"][0]["staff"] == "support@numfree.com"


@pytest.mark.django_db
def test_only_the_owner_can_download_an_export(alice_client, client, bob, drain):
    archive = _export(alice_client, drain)
    url = f"/privacy/center/export/{archive.pk}/download/"
    client.force_login(bob)
    assert client.get(url).status_code == 404
    assert client.get(f"/privacy/center/export/{archive.pk}/").status_code == 404
    client.logout()
    assert client.get(url).status_code == 302


@pytest.mark.django_db
def test_an_export_is_deleted_after_24_hours(alice_client, drain, settings):
    from django.core.files.storage import default_storage

    archive = _export(alice_client, drain)
    assert default_storage.exists(archive.file_name)
    with time_machine.travel(timezone.now() + timedelta(hours=24, minutes=1)):
        assert alice_client.get(f"/privacy/center/export/{archive.pk}/download/").status_code == 404
        from privacy.exports import delete_expired

        assert delete_expired() == 1
    assert not default_storage.exists(archive.file_name)
    assert not ExportArchive.objects.exists()


@pytest.mark.django_db
def test_an_export_is_recorded_as_a_fulfilled_request(alice_client, drain):
    _export(alice_client, drain)
    request = DataSubjectRequest.objects.get(kind="export")
    assert request.status == "fulfilled" and request.fulfilled_at
