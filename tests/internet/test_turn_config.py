"""deploy/'s coturn configuration without running coturn: the denied peer ranges cover every address
that is not on the public internet, and deploy/turnserver refuses an incomplete environment and keeps
the shared secret off the command line."""

from __future__ import annotations

import ipaddress
import os
import stat
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[2]
CONF = REPO / "deploy" / "turnserver.conf"
LAUNCHER = REPO / "deploy" / "turnserver"
SECRET = "Zm9yIHRlc3RzIG9ubHk6IG5vdCBhIHJlYWwgc2VjcmV0IQ=="  # base64, as `openssl rand -base64 32` makes


def conf_values(text: str, key: str) -> list[str]:
    return [line.partition("=")[2] for line in text.splitlines() if line.partition("=")[0].strip() == key]


def denied_ranges() -> list[tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, ...]]:
    ranges = []
    for value in conf_values(CONF.read_text(), "denied-peer-ip"):
        first, _, last = value.partition("-")
        ranges.append((ipaddress.ip_address(first), ipaddress.ip_address(last or first)))
    return ranges


def denied(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return any(first.version == address.version and first <= address <= last for first, last in denied_ranges())


def not_on_the_public_internet(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if address.version == 6 and address.ipv4_mapped is not None:
        return True  # ::ffff:10.0.0.1 is 10.0.0.1
    return not address.is_global or address.is_multicast


SPECIAL_NETWORKS = [
    *ipaddress.IPv4Address("0.0.0.0")._constants._private_networks,  # type: ignore[attr-defined]
    *ipaddress.IPv6Address("::")._constants._private_networks,  # type: ignore[attr-defined]
    ipaddress.ip_network("100.64.0.0/10"),
    ipaddress.ip_network("224.0.0.0/4"),
    ipaddress.ip_network("ff00::/8"),
    ipaddress.ip_network("fec0::/10"),
    ipaddress.ip_network("64:ff9b::/96"),
    ipaddress.ip_network("2002::/16"),
]


@pytest.mark.parametrize("network", SPECIAL_NETWORKS, ids=str)
def test_every_special_purpose_network_is_denied_from_its_first_to_its_last_address(network):
    assert denied(network[0]) and denied(network[-1]), network


@given(st.ip_addresses())
def test_an_address_off_the_public_internet_is_never_a_peer(address):
    if not_on_the_public_internet(address):
        assert denied(address), address


@pytest.mark.parametrize("address", ["1.1.1.1", "8.8.8.8", "93.184.216.34", "2606:4700:4700::1111", "2a00:1450::1"])
def test_public_addresses_stay_reachable_so_calls_can_be_relayed(address):
    assert not denied(ipaddress.ip_address(address))


def test_the_relay_config_never_allows_loopback_or_tcp_relays_and_uses_only_rest_credentials():
    lines = {line.strip() for line in CONF.read_text().splitlines() if line.strip() and not line.startswith("#")}
    assert not {"allow-loopback-peers", "lt-cred-mech", "no-auth"} & lines
    assert {"use-auth-secret", "no-tcp-relay", "no-multicast-peers", "no-cli", "fingerprint"} <= lines
    assert not conf_values(CONF.read_text(), "allowed-peer-ip")
    assert not conf_values(CONF.read_text(), "static-auth-secret")  # it comes from the environment


@pytest.fixture
def fake_turnserver(tmp_path: Path) -> Path:
    """A `turnserver` first on PATH that records its arguments and the config file it was given."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "turnserver"
    script.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$@" > {tmp_path}/argv\n'
        f'cp "$2" {tmp_path}/rendered.conf\n'
        f'stat -c %a "$2" > {tmp_path}/mode\n'
        "echo 'A peer IP 10.2.0.2 denied in the range: 10.0.0.0-10.255.255.255 (fe80::1)'\n"
    )
    script.chmod(0o755)
    (tmp_path / "cert.pem").write_text("certificate")
    (tmp_path / "key.pem").write_text("key")
    return tmp_path


def launch(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {"PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}", "NUMFREE_TURN_RUN_DIR": str(tmp_path / "run")}
    return subprocess.run(
        [str(LAUNCHER), "--allowed-peer-ip=198.18.0.0-198.18.0.255"],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=30,
    )


def complete_env(tmp_path: Path) -> dict[str, str]:
    return {
        "NUMFREE_TURN_SECRET": SECRET,
        "NUMFREE_TURN_REALM": "turn.numfree.com",
        "NUMFREE_TURN_TLS_CERT": str(tmp_path / "cert.pem"),
        "NUMFREE_TURN_TLS_KEY": str(tmp_path / "key.pem"),
    }


@pytest.mark.parametrize(
    ("missing", "replacement", "message"),
    [
        ("NUMFREE_TURN_SECRET", None, "NUMFREE_TURN_SECRET must be set"),
        ("NUMFREE_TURN_SECRET", "too-short-to-be-safe", "NUMFREE_TURN_SECRET must be at least 32 characters"),
        ("NUMFREE_TURN_SECRET", "with space " * 4, "must not contain spaces"),
        ("NUMFREE_TURN_REALM", None, "NUMFREE_TURN_REALM must be set"),
        ("NUMFREE_TURN_TLS_CERT", None, "NUMFREE_TURN_TLS_CERT must name a readable"),
        ("NUMFREE_TURN_TLS_KEY", "/nonexistent/key.pem", "NUMFREE_TURN_TLS_KEY must name a readable"),
    ],
)
def test_the_launcher_refuses_an_incomplete_environment_naming_the_variable(
    fake_turnserver, missing, replacement, message
):
    env = complete_env(fake_turnserver)
    env.pop(missing)
    if replacement is not None:
        env[missing] = replacement
    result = launch(fake_turnserver, **env)
    assert result.returncode == 64
    assert message in result.stderr
    assert not (fake_turnserver / "argv").exists()


def test_the_launcher_keeps_the_secret_in_a_private_file_and_off_the_command_line(fake_turnserver):
    result = launch(fake_turnserver, **complete_env(fake_turnserver), NUMFREE_TURN_LISTEN_IP="203.0.113.7")
    assert result.returncode == 0, result.stderr
    argv = (fake_turnserver / "argv").read_text()
    assert SECRET not in argv
    assert argv.splitlines() == [
        "-c",
        str(fake_turnserver / "run" / "turnserver.conf"),
        "--allowed-peer-ip=198.18.0.0-198.18.0.255",
    ]
    assert (fake_turnserver / "mode").read_text().strip() == "600"
    assert stat.S_IMODE((fake_turnserver / "run").stat().st_mode) == 0o700
    rendered = (fake_turnserver / "rendered.conf").read_text()
    assert rendered.startswith(CONF.read_text())
    assert conf_values(rendered, "static-auth-secret") == [SECRET]
    assert conf_values(rendered, "realm") == ["turn.numfree.com"]
    assert conf_values(rendered, "tls-listening-port")[-1] == "5349"
    assert conf_values(rendered, "relay-ip") == ["203.0.113.7"]
    assert "203.0.113.7" in conf_values(rendered, "denied-peer-ip")  # nobody relays to the relay itself


def test_the_launcher_removes_ip_addresses_from_the_relays_output(fake_turnserver):
    result = launch(fake_turnserver, **complete_env(fake_turnserver))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "A peer IP <ip> denied in the range: <ip>-<ip> (<ip>)"
