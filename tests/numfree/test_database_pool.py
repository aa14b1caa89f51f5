"""Production on PostgreSQL borrows connections from Django's pool, checked before each loan,
instead of connecting for every request (persistent connections are never reused under daphne).
That a PostgreSQL stop or restart then costs no text and recovers in seconds is shown by
tests/faults (which run the Procfile's lines with these settings)."""

from __future__ import annotations

import json

from tests.numfree.test_settings import PRODUCTION, manage

SHOW = (
    "import json; from django.conf import settings; d = settings.DATABASES['default'];"
    "print(json.dumps({'pool': d.get('OPTIONS', {}).get('pool'), 'age': d['CONN_MAX_AGE'],"
    " 'checks': d['CONN_HEALTH_CHECKS'], 'concurrency': settings.HTTP_CONCURRENCY}))"
)


def _database_settings(tmp_path, **env: str) -> dict:
    result = manage(tmp_path, "shell", "-c", SHOW, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_on_postgresql_pools_checked_connections_sized_by_the_request_bound(tmp_path) -> None:
    shown = _database_settings(tmp_path, **PRODUCTION, NUMFREE_HTTP_CONCURRENCY="12")
    assert shown == {
        "pool": {"min_size": 2, "max_size": 16, "timeout": 10},
        "age": 0,
        "checks": True,
        "concurrency": 12,
    }


def test_the_embedded_mode_on_sqlite_has_no_pool(tmp_path) -> None:
    assert _database_settings(tmp_path)["pool"] is None
