"""Retention: what is older than RETENTION_DAYS is deleted in batches; --dry-run only counts."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from privacy.models import PageView
from privacy.retention import delete_in_batches, purge_expired


def _views(days_ago: int, count: int) -> None:
    when = timezone.now() - timedelta(days=days_ago)
    PageView.objects.bulk_create(
        PageView(ip="198.51.100.1", browser="Firefox", path="/", viewed_at=when) for _ in range(count)
    )


@pytest.mark.django_db
def test_usage_data_older_than_the_retention_period_is_deleted():
    _views(91, 3)
    _views(89, 2)
    assert purge_expired()["page views"] == 3
    assert PageView.objects.count() == 2


@pytest.mark.django_db
def test_the_retention_period_comes_from_settings(settings):
    settings.RETENTION_DAYS = 30
    _views(31, 1)
    _views(29, 1)
    purge_expired()
    assert PageView.objects.count() == 1


@pytest.mark.django_db
def test_dry_run_counts_without_deleting():
    _views(100, 4)
    out = StringIO()
    call_command("purge_expired", "--dry-run", stdout=out)
    assert "Would delete 4 page views" in out.getvalue()
    assert PageView.objects.count() == 4
    call_command("purge_expired", stdout=out)
    assert "Deleted 4 page views" in out.getvalue() and not PageView.objects.exists()


@pytest.mark.django_db
def test_each_batch_is_one_delete_of_the_oldest_rows_found_through_the_age_index():
    _views(100, 25)
    with CaptureQueriesContext(connection) as queries:
        deleted = delete_in_batches(
            PageView.objects.filter(viewed_at__lt=timezone.now()).order_by("viewed_at"), batch_size=10
        )
    assert deleted == 25
    transaction_control = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE SAVEPOINT")
    statements = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(transaction_control)]
    assert len(statements) == 3 and all(sql.startswith('DELETE FROM "privacy_pageview"') for sql in statements)
    assert all('ORDER BY U0."viewed_at" ASC LIMIT 10' in sql for sql in statements)
    assert not PageView.objects.exists()


@pytest.mark.django_db
def test_expired_voicemails_go_at_once_and_the_worker_deletes_the_recording_at_twilio_and_the_audio(alice, drain):
    from telephony import twilio_api, twilio_fake
    from telephony.models import Voicemail

    recording_sid, _url = twilio_fake.record_voicemail(twilio_api.account_sid(), "CA" + "1" * 32, 3)
    voicemail = Voicemail.objects.create(
        user=alice,
        recording_sid=recording_sid,
        call_sid="CA" + "1" * 32,
        peer_number="+14155550100",
        created_at=timezone.now() - timedelta(days=91),
    )
    voicemail.audio.save(f"{recording_sid}.mp3", ContentFile(b"ID3-voicemail"), save=True)
    audio = voicemail.audio.name
    Voicemail.objects.create(user=alice, recording_sid="RE" + "2" * 32, call_sid="CA" + "2" * 32, peer_number="+1")

    assert purge_expired()["voicemails"] == 1
    assert list(Voicemail.objects.values_list("recording_sid", flat=True)) == ["RE" + "2" * 32]
    # The purge itself neither called Twilio nor touched files: the worker does.
    assert twilio_fake.exists("recording", recording_sid) and default_storage.exists(audio)
    drain()
    assert not twilio_fake.exists("recording", recording_sid)
    assert not default_storage.exists(audio)
