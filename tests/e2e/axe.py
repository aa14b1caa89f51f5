"""axe-core for the browser tests: the npm package pinned in the repository root's package.json
(`make test` runs `npm ci`), injected into pages with page.evaluate so no CSP is loosened."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.conftest import IN_CI
from tests.e2e.harness import ROOT

AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"


def axe_source() -> str:
    """axe.min.js; installs it with `npm ci` when missing, else skips (fails when CI=true)."""
    if not AXE_JS.exists() and (npm := shutil.which("npm")):
        subprocess.run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=ROOT, capture_output=True)
    if not AXE_JS.exists():
        reason = "needs axe-core: run `npm ci` at the repository root (make test does; needs the npm registry once)"
        if IN_CI:
            pytest.fail(f"CI=true: {reason}")
        pytest.skip(reason)
    return AXE_JS.read_text()
