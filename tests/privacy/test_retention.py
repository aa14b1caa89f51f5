"""Retention: what is older than RETENTION_DAYS is deleted in batches; --dry-run only counts."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
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
def test_deletion_goes_in_batches(django_assert_max_num_queries):
    _views(100, 25)
    assert delete_in_batches(PageView.objects.all(), batch_size=10) == 25
    assert not PageView.objects.exists()
