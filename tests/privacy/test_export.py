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


# --- one export at a time, and a limit on asking -------------------------------


def _build_jobs() -> int:
    from numfree.outbox.models import Job

    return Job.objects.filter(kind="privacy.build_export").count()


def _zips() -> list[str]:
    from django.core.files.storage import default_storage

    return default_storage.listdir("exports")[1] if default_storage.exists("exports") else []


@pytest.mark.django_db
def test_asking_again_while_an_export_is_built_gives_the_same_export_and_one_build(alice_client):
    locations = {alice_client.post("/privacy/center/export/")["Location"] for _ in range(3)}
    assert len(locations) == 1
    assert ExportArchive.objects.count() == 1 and _build_jobs() == 1
    assert DataSubjectRequest.objects.filter(kind="export").count() == 1


@pytest.mark.django_db
def test_six_requests_in_an_hour_are_refused_after_the_third_with_a_readable_page(alice_client, drain):
    answers = []
    for _ in range(6):
        answers.append(alice_client.post("/privacy/center/export/"))
        drain()
    assert [answer.status_code for answer in answers] == [302, 302, 302, 429, 429, 429]
    assert int(answers[-1]["Retry-After"]) > 0 and "Too many attempts" in answers[-1].content.decode()
    assert ExportArchive.objects.count() == 3 and len(_zips()) == 3


@pytest.mark.django_db
def test_a_new_export_can_be_asked_for_once_the_last_one_is_built(alice_client, drain):
    first = _export(alice_client, drain)
    alice_client.post("/privacy/center/export/")
    assert ExportArchive.objects.exclude(pk=first.pk).get().status == "pending"


@pytest.mark.django_db
def test_an_export_whose_build_is_given_up_is_failed_and_does_not_block_the_next(alice_client, drain):
    from privacy.exports import give_up

    alice_client.post("/privacy/center/export/")
    stuck = ExportArchive.objects.get()
    give_up({"archive_id": str(stuck.pk)})  # what the worker calls when the job is dropped
    stuck.refresh_from_db()
    assert stuck.status == "failed"
    assert "Building your export failed" in alice_client.get(f"/privacy/center/export/{stuck.pk}/").content.decode()
    alice_client.post("/privacy/center/export/")
    assert ExportArchive.objects.filter(status="pending").exclude(pk=stuck.pk).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_requests_at_the_same_moment_get_one_archive_on_postgresql(alice):
    import threading

    from django.db import connections
    from django.test import Client

    barrier, answers = threading.Barrier(2), []

    def ask() -> None:
        client = Client()
        client.force_login(alice)
        barrier.wait()
        answers.append(client.post("/privacy/center/export/"))
        connections.close_all()

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert [answer.status_code for answer in answers] == [302, 302]
    assert len({answer["Location"] for answer in answers}) == 1
    assert ExportArchive.objects.count() == 1 and _build_jobs() == 1


# --- an export never outlives the account it was built for ---------------------


def _during_the_build(monkeypatch, action) -> None:  # type: ignore[no-untyped-def]
    """Run `action` while the worker is half-way through building (after the first app's part)."""
    from privacy.registry import registered

    entry = next(entry for entry in registered() if entry.export is not None)
    export = entry.export

    def export_then_act(user):  # type: ignore[no-untyped-def]
        part = export(user)
        action(user)
        return part

    monkeypatch.setattr(entry, "export", export_then_act)


@pytest.mark.django_db
def test_an_export_built_while_the_account_deletion_is_requested_leaves_no_zip(alice_client, drain, monkeypatch):
    from accounts.models import User
    from privacy import subject_requests

    def deletion_requested(user):  # type: ignore[no-untyped-def]
        # What the deletion request does before the erasure job runs: disabled, request open.
        subject_requests.record_from_center(user, DataSubjectRequest.DELETION, status="in_progress")
        User.objects.filter(pk=user.pk).update(is_active=False)

    alice_client.post("/privacy/center/export/")
    _during_the_build(monkeypatch, deletion_requested)
    drain()
    assert _zips() == []
    assert ExportArchive.objects.get().status == "failed"


@pytest.mark.django_db
def test_the_whole_deletion_during_an_export_leaves_no_zip(alice_client, drain, monkeypatch):
    from privacy.erasure import request_deletion

    alice_client.post("/privacy/center/export/")
    _during_the_build(monkeypatch, request_deletion)
    drain()  # the build, then the erasure it queued
    assert _zips() == [] and not ExportArchive.objects.exists()


@pytest.mark.django_db
def test_an_export_built_while_the_account_is_erased_leaves_no_zip(alice_client, alice, drain, monkeypatch):
    from privacy.erasure import erase_account

    alice_client.post("/privacy/center/export/")
    _during_the_build(monkeypatch, lambda user: erase_account(user.pk))
    drain()
    assert _zips() == [] and not ExportArchive.objects.exists()
    from accounts.models import User

    assert not User.objects.filter(pk=alice.pk).exists()


@pytest.mark.django_db
def test_erasing_the_account_after_its_export_was_built_deletes_the_zip(alice_client, alice, drain):
    from privacy.erasure import erase_account

    _export(alice_client, drain)
    assert len(_zips()) == 1
    erase_account(alice.pk)
    assert _zips() == []


@pytest.mark.django_db
def test_a_disabled_accounts_export_is_not_built(alice_client, alice, drain):
    alice_client.post("/privacy/center/export/")
    alice.is_active = False
    alice.save()
    drain()
    assert _zips() == [] and ExportArchive.objects.get().status == "failed"
