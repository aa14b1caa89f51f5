"""deploy/backup: a pg_dump of the database (and the private files), encrypted to the operator's key,
written 0600, and every backup older than NUMFREE_BACKUP_KEEP_DAYS deleted, so an erasure reaches
the backups when they expire (docs/deploy.md). PostgreSQL: runs in .ci/run's second pass."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from django.db import connection

from tests.conftest import IN_CI, make_user

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
REPO = Path(__file__).resolve().parents[2]
DAY = 86400


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _backup(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {
        "PATH": os.environ["PATH"],
        "DATABASE_URL": _database_url(),
        "NUMFREE_BACKUP_DIR": str(tmp_path / "backups"),
        "NUMFREE_DATA_DIR": str(tmp_path / "data"),
    }
    return subprocess.run(
        [str(REPO / "deploy" / "backup")], env={**base, **env}, capture_output=True, text=True, timeout=120
    )


def _gpg_key(home: Path) -> dict[str, str]:
    home.mkdir(mode=0o700)
    env = {"GNUPGHOME": str(home)}
    subprocess.run(
        [
            "gpg",
            "--batch",
            "--passphrase",
            "",
            "--quick-gen-key",
            "backups@numfree.test",
            "future-default",
            "default",
            "1d",
        ],
        env={**os.environ, **env},
        check=True,
        capture_output=True,
        timeout=60,
    )
    return env


def test_a_backup_is_encrypted_private_and_restorable_with_the_offline_key(tmp_path: Path) -> None:
    if not shutil.which("gpg"):
        reason = "needs gpg (apt-get install gnupg)"
        if IN_CI:
            pytest.fail(f"CI=true and the backup test cannot run: {reason}")
        pytest.skip(reason)
    make_user("hana@example.com")
    (tmp_path / "data" / "private" / "voicemail").mkdir(parents=True)
    (tmp_path / "data" / "private" / "voicemail" / "1.wav").write_bytes(b"RIFF-audio")
    key = _gpg_key(tmp_path / "gnupg")

    result = _backup(tmp_path, NUMFREE_BACKUP_GPG_RECIPIENT="backups@numfree.test", **key)

    assert result.returncode == 0, result.stderr
    files = sorted((tmp_path / "backups").iterdir())
    assert [f.name.split("-")[1] for f in files] == ["db", "files"]
    assert all(f.stat().st_mode & 0o777 == 0o600 for f in files)
    dump = files[0].read_bytes()
    assert b"PGDMP" not in dump and b"hana@example.com" not in dump
    plain = subprocess.run(
        ["gpg", "--batch", "--decrypt", str(files[0])],
        env={**os.environ, **key},
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    assert plain.startswith(b"PGDMP")
    listing = subprocess.run(["pg_restore", "--list"], input=plain, capture_output=True, check=True, timeout=60)
    assert b"TABLE DATA public accounts_user" in listing.stdout


def test_backups_older_than_the_retention_are_deleted_and_younger_ones_kept(tmp_path: Path) -> None:
    backups = tmp_path / "backups"
    backups.mkdir()
    now = time.time()
    for name, age_days in (
        ("numfree-db-old.dump", 30.2),
        ("numfree-db-recent.dump", 28.9),
        (".numfree-db-x.dump.part", 31),
    ):
        (backups / name).write_bytes(b"x")
        os.utime(backups / name, (now - age_days * DAY, now - age_days * DAY))

    result = _backup(tmp_path, NUMFREE_BACKUP_GPG_RECIPIENT="none", NUMFREE_BACKUP_KEEP_DAYS="30")

    assert result.returncode == 0, result.stderr
    names = sorted(path.name for path in backups.iterdir())
    assert "numfree-db-old.dump" not in names and ".numfree-db-x.dump.part" not in names
    assert "numfree-db-recent.dump" in names
    assert len([n for n in names if n.startswith("numfree-db-") and n.endswith("Z.dump")]) == 1
    assert "expired numfree-db-old.dump" in result.stdout


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"NUMFREE_BACKUP_GPG_RECIPIENT": "none", "NUMFREE_BACKUP_KEEP_DAYS": "90"}, "NUMFREE_BACKUP_KEEP_DAYS"),
        ({}, "NUMFREE_BACKUP_GPG_RECIPIENT"),
    ],
)
def test_a_backup_that_would_outlive_erasure_or_go_unencrypted_by_omission_is_refused(
    tmp_path: Path, env: dict[str, str], named: str
) -> None:
    result = _backup(tmp_path, **env)
    assert result.returncode == 64
    assert named in result.stderr
    assert not (tmp_path / "backups").exists()
