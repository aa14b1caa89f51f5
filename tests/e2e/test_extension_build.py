"""`make extension SERVER=... [KEY=...]`: a build for another server asks for that server only,
gets the id its key gives, and works against that server in real Chromium; the store build
(extension/ as it is) talks only to numfree.com."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PASSWORD, make_user
from tests.e2e.extension_scenario import ALICE, in_namespace, server_logs
from tests.e2e.harness import EXTENSION_ID, launch, live_server

ROOT = Path(__file__).resolve().parents[2]


def make_extension(out: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    args = [f"{name}={value}" for name, value in {"EXTENSION_OUT": str(out), **variables}.items()]
    return subprocess.run(["make", "-s", "-C", str(ROOT), "extension", *args], capture_output=True, text=True)


def chrome_extension_id(manifest_key_b64: str) -> str:
    """Chrome's rule: SHA-256 of the DER public key, the first 32 hex digits written with a-p."""
    digest = hashlib.sha256(base64.b64decode(manifest_key_b64)).hexdigest()[:32]
    return "".join(chr(ord("a") + int(char, 16)) for char in digest)


def built(out: Path) -> tuple[dict[str, Any], str, str]:
    manifest = json.loads((out / "manifest.json").read_text())
    connect_src = re.search(r"connect-src ([^;]+)", manifest["content_security_policy"]["extension_pages"])
    assert connect_src
    server_url = re.search(r'SERVER_URL = "([^"]+)"', (out / "config.js").read_text())
    assert server_url
    return manifest, connect_src.group(1), server_url.group(1)


def test_a_build_for_another_server_asks_for_that_server_only_and_names_the_id_to_allow(tmp_path) -> None:
    result = make_extension(tmp_path / "ext", SERVER="https://calls.example.org")
    assert result.returncode == 0, result.stderr
    manifest, connect_src, server_url = built(tmp_path / "ext")
    assert manifest["host_permissions"] == ["https://calls.example.org/*"]
    assert connect_src == "https://calls.example.org wss://calls.example.org"
    assert server_url == "https://calls.example.org"
    assert manifest["permissions"] == ["storage", "notifications"]
    # Without KEY the build carries the dev key: the id is the dev build's, and make says so.
    assert chrome_extension_id(manifest["key"]) == EXTENSION_ID
    assert f"NUMFREE_EXTENSION_IDS={EXTENSION_ID}" in result.stdout


def test_make_extension_follows_port_when_no_server_is_given(tmp_path) -> None:
    assert make_extension(tmp_path / "ext", PORT="8123").returncode == 0
    manifest, connect_src, server_url = built(tmp_path / "ext")
    assert manifest["host_permissions"] == ["http://127.0.0.1:8123/*"]
    assert connect_src == "http://127.0.0.1:8123 ws://127.0.0.1:8123"
    assert server_url == "http://127.0.0.1:8123"


def test_a_build_with_its_own_key_gets_that_keys_id(tmp_path) -> None:
    key = tmp_path / "key.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    result = make_extension(tmp_path / "ext", SERVER="https://calls.example.org:8443", KEY=str(key))
    assert result.returncode == 0, result.stderr
    manifest, connect_src, _ = built(tmp_path / "ext")
    own_id = chrome_extension_id(manifest["key"])
    assert own_id != EXTENSION_ID
    assert f"NUMFREE_EXTENSION_IDS={own_id}" in result.stdout
    assert manifest["host_permissions"] == ["https://calls.example.org:8443/*"]
    assert connect_src == "https://calls.example.org:8443 wss://calls.example.org:8443"
    assert "PRIVATE" not in (tmp_path / "ext" / "manifest.json").read_text()


@pytest.mark.parametrize(
    "server",
    ["http://calls.example.org", "https://calls.example.org/app", "calls.example.org", "ftp://calls.example.org"],
)
def test_a_server_that_is_not_an_https_origin_is_refused(tmp_path, server) -> None:
    result = make_extension(tmp_path / "ext", SERVER=server)
    assert result.returncode != 0
    assert "SERVER" in result.stderr
    assert not (tmp_path / "ext" / "manifest.json").exists()


def test_the_store_build_talks_only_to_numfree_com() -> None:
    manifest, connect_src, server_url = built(ROOT / "extension")
    assert manifest["host_permissions"] == ["https://numfree.com/*"]
    assert connect_src == "https://numfree.com wss://numfree.com"
    assert server_url == "https://numfree.com"
    assert "key" not in manifest


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_build_for_port_8123_signs_in_and_connects_to_the_server_on_8123(subprocess_env, tmp_path) -> None:
    make_user(ALICE)
    assert make_extension(tmp_path / "ext", SERVER="http://127.0.0.1:8123").returncode == 0
    env = {**subprocess_env, "NUMFREE_PUBLIC_URL": "http://127.0.0.1:8123"}

    def scenario() -> dict[str, Any]:
        from playwright.sync_api import sync_playwright

        with live_server(env, server_logs(tmp_path), port=8123), sync_playwright() as playwright:
            alice = launch(playwright, tmp_path / "ext", tmp_path / "profile-alice", "alice")
            popup = alice.sign_in(ALICE, PASSWORD)  # waits for the signaling socket to be open
            facts = {
                "origins": alice.worker.evaluate("chrome.permissions.getAll().then((p) => p.origins)"),
                "state": popup.get_attribute("#connection", "data-state"),
            }
            alice.context.close()
            return facts

    facts = in_namespace(scenario, env)
    assert facts["origins"] == ["http://127.0.0.1:8123/*"]
    assert facts["state"] == "open"
