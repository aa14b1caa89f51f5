"""The extension asks for exactly what the privacy policy says, and its code does nothing else."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
EXTENSION = ROOT / "extension"
DEV_CONFIG = json.loads((EXTENSION / "dev-build.json").read_text())


def manifest() -> dict:
    return json.loads((EXTENSION / "manifest.json").read_text())


def shipped_scripts() -> list[Path]:
    return [
        p for p in EXTENSION.rglob("*.js") if "tests" not in p.relative_to(EXTENSION).parts and p.name != "build.mjs"
    ]


def extension_id(public_key_b64: str) -> str:
    digest = hashlib.sha256(base64.b64decode(public_key_b64)).hexdigest()[:32]
    return "".join(chr(ord("a") + int(char, 16)) for char in digest)


def test_production_manifest_asks_for_storage_and_notifications_only() -> None:
    assert manifest()["permissions"] == ["storage", "notifications"]


def test_production_manifest_reaches_numfree_only() -> None:
    assert manifest()["host_permissions"] == ["https://numfree.com/*"]


def test_production_manifest_has_no_other_way_to_reach_pages_or_data() -> None:
    data = manifest()
    allowed = {
        "manifest_version",
        "name",
        "short_name",
        "version",
        "description",
        "minimum_chrome_version",
        "permissions",
        "host_permissions",
        "background",
        "action",
        "icons",
        "content_security_policy",
    }
    assert set(data) <= allowed, f"unexpected manifest keys: {set(data) - allowed}"
    assert data["manifest_version"] == 3
    assert "key" not in data


def test_extension_pages_policy_is_at_least_as_strict_as_the_mv3_default() -> None:
    csp = manifest()["content_security_policy"]["extension_pages"]
    directives = {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}
    assert directives["script-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert "unsafe" not in csp
    assert directives["connect-src"] == ["https://numfree.com", "wss://numfree.com"]


def test_no_remote_code_no_eval_no_synced_storage_in_shipped_scripts() -> None:
    forbidden = {
        r"\beval\s*\(": "eval",
        r"new\s+Function\s*\(": "new Function",
        r"\bimport\s*\(": "dynamic import",
        r"importScripts": "importScripts",
        r"storage\.sync": "chrome.storage.sync",
        r"\.innerHTML\b|\.outerHTML\b|insertAdjacentHTML": "HTML injection",
        r"chrome\.(tabs|history|bookmarks|downloads|cookies|scripting|webRequest)\b": "an API outside the permissions",
    }
    for path in shipped_scripts():
        text = path.read_text()
        for pattern, what in forbidden.items():
            assert not re.search(pattern, text), f"{path.relative_to(ROOT)} uses {what}"
        for url in re.findall(r"https?://[^\s\"'`)]+", text):
            assert url.startswith("https://numfree.com"), f"{path.relative_to(ROOT)} mentions {url}"


def test_pages_load_only_their_own_scripts() -> None:
    for page in EXTENSION.rglob("*.html"):
        text = page.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=\"[\w./-]+\")", text), f"inline script in {page.name}"
        assert not re.search(r"\son\w+\s*=", text), f"inline handler in {page.name}"
        assert not re.search(r"(src|href)=\"(https?:)?//", text), f"remote resource in {page.name}"


def test_dev_key_gives_the_extension_id_the_server_accepts_by_default() -> None:
    computed = extension_id(DEV_CONFIG["key"])
    assert computed == DEV_CONFIG["extension_id"]
    source = (ROOT / "numfree" / "settings.py").read_text()
    assert re.search(rf'env\.list\("NUMFREE_EXTENSION_IDS",\s*\["{computed}"\]', source)
    if settings.DEBUG and "NUMFREE_EXTENSION_IDS" not in os.environ:
        assert computed in settings.NUMFREE_EXTENSION_IDS


def test_dev_build_differs_only_in_server_host_permission_and_key(tmp_path: Path) -> None:
    out = tmp_path / "dev"
    subprocess.run(["node", str(EXTENSION / "build.mjs"), str(out)], check=True, capture_output=True)
    prod, dev = manifest(), json.loads((out / "manifest.json").read_text())
    assert dev.pop("key") == DEV_CONFIG["key"]
    assert dev.pop("host_permissions") == ["http://127.0.0.1:8000/*"]
    prod.pop("host_permissions")
    dev_csp = dev.pop("content_security_policy")["extension_pages"]
    prod_csp = prod.pop("content_security_policy")["extension_pages"]
    assert dev_csp == prod_csp.replace(
        "https://numfree.com wss://numfree.com", "http://127.0.0.1:8000 ws://127.0.0.1:8000"
    )
    assert dev == prod
    assert 'SERVER_URL = "http://127.0.0.1:8000"' in (out / "config.js").read_text()
    assert not (out / "tests").exists() and not (out / "dev-build.json").exists()
    for path in (out / "lib").glob("*.js"):
        assert path.read_text() == (EXTENSION / "lib" / path.name).read_text()


def test_shipped_scripts_use_nothing_newer_than_the_minimum_chrome_version() -> None:
    # chrome.action.openPopup needs Chrome 127; the manifest promises 116, so clicking a
    # notification opens a window instead (chrome.windows.create works in every version).
    assert manifest()["minimum_chrome_version"] == "116"
    for path in shipped_scripts():
        calls = re.search(r"openPopup\s*(\?\.)?\s*\(", path.read_text())
        assert not calls, f"{path.relative_to(ROOT)} calls chrome.action.openPopup (Chrome 127)"
