"""With our own TURN relay configured, the policy pages say audio may pass through it still encrypted
(DTLS-SRTP), and check --deploy refuses a relay that is not NumFree's own."""

from __future__ import annotations

import pytest

from privacy.checks import policy_matches_configuration
from privacy.policy import as_text

OWN_RELAY = [
    "turn:turn.numfree.com:3478?transport=udp",
    "turn:turn.numfree.com:3478?transport=tcp",
    "turns:turn.numfree.com:5349?transport=tcp",
]


@pytest.fixture
def own_relay(settings):  # type: ignore[no-untyped-def]
    settings.PUBLIC_URL = "https://numfree.com"
    settings.SIGNALING_STUN_URLS = ["stun:turn.numfree.com:3478"]
    settings.SIGNALING_TURN_URLS = OWN_RELAY
    settings.SIGNALING_TURN_SECRET = "q" * 44
    return settings


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["/privacy/", "/privacy/extension/"])
def test_with_our_relay_the_policy_pages_say_audio_may_pass_it_encrypted_with_dtls_srtp(client, own_relay, page):
    text = as_text(client.get(page).content.decode())
    assert (
        "When no direct path between two callers exists, the audio may pass through NumFree's relay server, "
        "still end-to-end encrypted (DTLS-SRTP): the relay cannot hear it, and NumFree never records it."
    ) in text
    assert "never the call audio itself" not in text


@pytest.mark.django_db
def test_check_deploy_accepts_a_relay_on_the_sites_own_domain(own_relay):
    assert policy_matches_configuration() == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "relay", ["turn:global.turn.twilio.com:3478?transport=udp", "turns:relay.metered.ca:443?transport=tcp"]
)
def test_check_deploy_refuses_a_third_party_turn_relay_the_page_would_call_numfrees_own(own_relay, relay):
    own_relay.SIGNALING_TURN_URLS = [*OWN_RELAY, relay]
    errors = policy_matches_configuration()
    assert [e.id for e in errors] == ["privacy.E001"]
    assert "third-party TURN relay" in errors[0].msg


@pytest.mark.django_db
def test_the_landing_page_promises_direct_audio_only_without_a_relay(client, settings):
    settings.SIGNALING_TURN_URLS = []
    assert "Audio goes directly between callers. Our servers" in as_text(client.get("/").content.decode())
    settings.SIGNALING_TURN_URLS = OWN_RELAY
    text = as_text(client.get("/").content.decode())
    assert "through NumFree's relay, still end-to-end encrypted: the relay cannot hear it." in text
    assert "Audio goes directly between callers. Our servers" not in text
