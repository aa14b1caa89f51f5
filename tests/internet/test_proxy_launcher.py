"""deploy/proxy refuses an environment that would render a wrong or unsafe nginx configuration,
naming the variable, before nginx starts (the rendered configuration itself runs in test_https_proxy.py)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def good_env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "cert.pem").write_text("not read before the checks\n")
    (tmp_path / "key.pem").write_text("not read before the checks\n")
    return {
        "PATH": os.environ["PATH"],
        "NUMFREE_PUBLIC_URL": "https://numfree.com",
        "NUMFREE_PROXY_TLS_CERT": str(tmp_path / "cert.pem"),
        "NUMFREE_PROXY_TLS_KEY": str(tmp_path / "key.pem"),
        "NUMFREE_PROXY_RUN_DIR": str(tmp_path / "run"),
    }


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("NUMFREE_PUBLIC_URL", "http://numfree.com"),
        ("NUMFREE_PUBLIC_URL", "https://numfree.com/app"),
        ("NUMFREE_PUBLIC_URL", "https://numfree.com; return 200"),
        ("NUMFREE_PROXY_TLS_CERT", "/nonexistent/cert.pem"),
        ("NUMFREE_PROXY_UPSTREAMS", "127.0.0.1:8001;include /etc/passwd"),
        ("NUMFREE_PROXY_UPSTREAMS", "127.0.0.1"),
        ("NUMFREE_PROXY_LISTEN", "443 ssl; }"),
        ("NUMFREE_PROXY_HTTP_LISTEN", "80 default_server"),
    ],
)
def test_a_value_that_would_break_or_inject_into_the_nginx_config_stops_the_start(
    good_env: dict[str, str], name: str, value: str
) -> None:
    result = subprocess.run(
        [str(REPO / "deploy" / "proxy")],
        env={**good_env, name: value},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 64
    assert name in result.stderr
    assert not (Path(good_env["NUMFREE_PROXY_RUN_DIR"]) / "nginx.conf").exists()
