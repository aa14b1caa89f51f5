"""STUN/TURN configuration at start-up: a URL browsers would refuse, or a TURN secret short enough to
guess from one issued password, stops start-up naming the variable; the documented set starts and is
what /api/signaling/ice-servers/ hands out."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from rest_framework.test import APIClient

from accounts.tokens import issue_pair
from signaling.ice_urls import STUN_SCHEMES, TURN_SCHEMES, checked_ice_urls
from tests.numfree.test_settings import manage

SECRET = "q" * 44  # the length of `openssl rand -base64 32`
DOCUMENTED = {
    "NUMFREE_STUN_URLS": "stun:turn.numfree.com:3478",
    "NUMFREE_TURN_URLS": (
        "turn:turn.numfree.com:3478?transport=udp,turn:turn.numfree.com:3478?transport=tcp,"
        "turns:turn.numfree.com:5349?transport=tcp"
    ),
    "NUMFREE_TURN_SECRET": SECRET,
}


MALFORMED = [
    ("NUMFREE_TURN_URLS", "turn.numfree.com:3478"),  # no scheme: RTCPeerConnection throws SyntaxError
    ("NUMFREE_TURN_URLS", "https://turn.numfree.com"),
    ("NUMFREE_TURN_URLS", "stun:turn.numfree.com:3478"),  # a STUN URL given as TURN gets no credentials
    ("NUMFREE_TURN_URLS", "turn:turn.numfree.com:3478?transport=tls"),
    ("NUMFREE_TURN_URLS", "turn:numfree:hunter2@turn.numfree.com"),
    ("NUMFREE_TURN_URLS", "turn:turn.numfree.com:65536"),
    ("NUMFREE_TURN_URLS", "turn:turn.numfree.com:"),
    ("NUMFREE_TURN_URLS", "turn:[2001:db8::1:3478"),
    ("NUMFREE_TURN_URLS", "turn:turn_numfree.com"),
    ("NUMFREE_STUN_URLS", "turn:turn.numfree.com:3478"),
    ("NUMFREE_STUN_URLS", "stun:turn.numfree.com:3478?transport=udp"),
    ("NUMFREE_STUN_URLS", "stun:"),
]


@pytest.mark.parametrize(("name", "value"), MALFORMED)
def test_a_malformed_stun_or_turn_url_is_refused_naming_the_variable_and_the_url(name, value):
    schemes = TURN_SCHEMES if name == "NUMFREE_TURN_URLS" else STUN_SCHEMES
    with pytest.raises(ImproperlyConfigured) as refused:
        checked_ice_urls(
            name, ["turn:turn.numfree.com:3478" if name.endswith("TURN_URLS") else "stun:x.com", value], schemes
        )
    assert str(refused.value).startswith(f"{name}: {value!r} ")


@pytest.mark.parametrize(
    "url", ["turn:turn.numfree.com", "turns:203.0.113.7:443?transport=tcp", "turn:[2001:db8::1]:3478?transport=udp"]
)
def test_well_formed_turn_urls_pass_unchanged(url):
    assert checked_ice_urls("NUMFREE_TURN_URLS", [url], TURN_SCHEMES) == [url]


@pytest.mark.parametrize(("name", "value"), [MALFORMED[0], MALFORMED[-3]])
def test_a_malformed_url_stops_start_up(tmp_path, name, value):
    result = manage(tmp_path, "check", **{**DOCUMENTED, name: value})
    assert result.returncode != 0
    assert f"ImproperlyConfigured: {name}: {value!r}" in result.stderr


def test_a_turn_secret_shorter_than_32_characters_stops_start_up(tmp_path):
    result = manage(tmp_path, "check", **{**DOCUMENTED, "NUMFREE_TURN_SECRET": "s3cret-but-short"})
    assert result.returncode != 0
    assert "NUMFREE_TURN_SECRET must be at least 32 characters" in result.stderr


def test_turn_credentials_live_a_day_at_most(tmp_path):
    result = manage(tmp_path, "check", **{**DOCUMENTED, "NUMFREE_TURN_TTL_SECONDS": "604800"})
    assert result.returncode != 0
    assert "NUMFREE_TURN_TTL_SECONDS must be at most 86400" in result.stderr


def test_the_documented_udp_tcp_and_tls_urls_start(tmp_path):
    result = manage(tmp_path, "check", **DOCUMENTED)
    assert result.returncode == 0, result.stderr


@pytest.mark.django_db
def test_the_ice_servers_endpoint_hands_out_stun_and_turn_over_udp_tcp_and_tls(alice, settings):
    settings.SIGNALING_STUN_URLS = DOCUMENTED["NUMFREE_STUN_URLS"].split(",")
    settings.SIGNALING_TURN_URLS = DOCUMENTED["NUMFREE_TURN_URLS"].split(",")
    settings.SIGNALING_TURN_SECRET = SECRET
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_pair(alice).access}")
    stun, turn = api.get("/api/signaling/ice-servers/").json()["iceServers"]
    assert stun == {"urls": ["stun:turn.numfree.com:3478"]}
    assert turn["urls"] == [
        "turn:turn.numfree.com:3478?transport=udp",
        "turn:turn.numfree.com:3478?transport=tcp",
        "turns:turn.numfree.com:5349?transport=tcp",
    ]
    assert set(turn) == {"urls", "username", "credential"}
