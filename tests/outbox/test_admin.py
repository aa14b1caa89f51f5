"""Staff allowed to view jobs see what the outbox is doing in the admin, and never a payload."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from numfree.outbox import crypto, enqueue, job
from numfree.outbox.models import Job
from numfree.outbox.testing import run_pending
from tests.conftest import make_user
from twofactor.testing import force_login_with_two_factor

SECRET = "SECRET-sms-body-for-admin-test"


@pytest.fixture
def support_client(client, db):  # type: ignore[no-untyped-def]
    """A staff member allowed to view jobs, and nothing else."""
    staff = make_user("support@numfree.com")
    staff.is_staff = True
    staff.save()
    staff.user_permissions.add(Permission.objects.get(content_type__app_label="outbox", codename="view_job"))
    force_login_with_two_factor(client, staff)  # the admin needs two-factor sign-in
    return client


@pytest.fixture
def jobs(db) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    @job("tests.admin_fails", max_attempts=1)
    def fails(payload: dict) -> None:
        raise ConnectionError("mail server down")

    job("tests.admin_waits")(lambda payload: None)
    failed = enqueue("tests.admin_fails", {"body": SECRET})
    run_pending()
    waiting = enqueue("tests.admin_waits", {"body": SECRET}, delay=3600, dedupe_key="forward-sms:SM123")
    assert failed and waiting
    return failed, waiting


def test_staff_see_kinds_due_times_attempts_and_failures_but_no_payload(support_client, jobs):
    failed, waiting = jobs
    token = bytes(Job.objects.get(pk=waiting).payload)
    assert crypto.unseal("tests.admin_waits", token) == {"body": SECRET}

    listing = support_client.get("/admin/outbox/job/")
    assert listing.status_code == 200
    page = listing.content.decode()
    assert "tests.admin_fails" in page and "tests.admin_waits" in page
    assert "ConnectionError: mail server down" in page

    for job_id in (failed, waiting):
        detail = support_client.get(f"/admin/outbox/job/{job_id}/change/")
        assert detail.status_code == 200
        text = detail.content.decode()
        assert "Run at" in text and "Attempts" in text
        assert SECRET not in text and token.decode()[:20] not in text
        assert "Payload" not in text and "SM123" not in text
    assert SECRET not in page and token.decode()[:20] not in page


def test_staff_who_may_view_jobs_cannot_add_change_or_delete_them(support_client, jobs):
    _, waiting = jobs
    assert support_client.get("/admin/outbox/job/add/").status_code == 403
    assert support_client.post(f"/admin/outbox/job/{waiting}/change/", {"kind": "x"}).status_code == 403
    assert support_client.post(f"/admin/outbox/job/{waiting}/delete/", {"post": "yes"}).status_code == 403
    assert Job.objects.get(pk=waiting).kind == "tests.admin_waits"


def test_a_user_who_is_not_staff_is_sent_to_the_login_page(client, jobs):
    client.force_login(make_user("alice@example.com"))
    response = client.get("/admin/outbox/job/")
    assert response.status_code == 302 and "/login/" in response["Location"]
