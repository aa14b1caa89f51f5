"""The policy pages say what this deployment does, and check --deploy refuses a page that would be untrue."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.utils import timezone

from privacy.checks import policy_matches_configuration
from privacy.models import PolicyVersion
from privacy.policy import RELAY_SENTENCE, as_text, contradictions


@pytest.mark.django_db
def test_the_policy_page_states_the_configured_retention_period(client, settings):
    settings.RETENTION_DAYS = 45
    text = as_text(client.get("/privacy/").content.decode())
    assert "Call and SMS logs are retained for 45 days" in text


@pytest.mark.django_db
def test_the_policy_page_names_the_processors_this_deployment_uses(client, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "smtp.postmarkapp.com"
    settings.PRIVACY_EMAIL_PROVIDER = "Postmark"
    text = as_text(client.get("/privacy/").content.decode())
    assert "Twilio — voice and SMS routing" in text
    assert "Stripe — payment processing" in text
    assert "Postmark — email delivery" in text
    assert "MongoDB" not in text  # the embedded database is on our own server


@pytest.mark.django_db
def test_a_remote_database_host_is_named_as_a_processor_and_a_local_one_is_not(settings):
    from privacy.policy import database_processor

    settings.PRIVACY_DATABASE_PROVIDER = "Example Cloud"
    remote = {"ENGINE": "django.db.backends.postgresql", "HOST": "db.example-cloud.net"}
    assert database_processor(remote).name == "Example Cloud"
    assert database_processor({"ENGINE": "django.db.backends.postgresql", "HOST": "127.0.0.1"}) is None


@pytest.mark.django_db
def test_without_a_turn_relay_the_page_says_audio_never_passes_through_our_servers(client):
    text = as_text(client.get("/privacy/extension/").content.decode())
    assert "never the call audio itself" in text
    assert RELAY_SENTENCE not in text


@pytest.mark.django_db
def test_with_a_turn_relay_the_page_says_audio_may_pass_through_it_encrypted(client, settings):
    settings.SIGNALING_TURN_URLS = ["turn:turn.numfree.com:3478"]
    text = as_text(client.get("/privacy/extension/").content.decode())
    assert RELAY_SENTENCE in text
    assert "still end-to-end encrypted" in text
    assert "never the call audio itself" not in text


@pytest.mark.django_db
def test_the_extension_page_lists_exactly_its_permissions(client):
    text = as_text(client.get("/privacy/extension/").content.decode())
    for permission in ("storage", "notifications", "host_permissions (numfree.com)"):
        assert permission in text


@pytest.mark.django_db
def test_check_deploy_passes_when_the_page_matches_the_configuration():
    assert policy_matches_configuration() == []


@pytest.mark.django_db
def test_check_deploy_fails_when_turn_is_configured_but_the_page_says_audio_never_passes(settings):
    settings.SIGNALING_TURN_URLS = ["turns:turn.numfree.com:5349"]
    page_without_relay = "Call and SMS logs are retained for 90 days. Twilio Stripe NumFree servers only relay signaling metadata (who is calling whom), never the call audio itself."
    problems = contradictions(page_without_relay)
    assert any("never passes through" in p for p in problems)
    assert any("does not say audio may pass" in p for p in problems)


@pytest.mark.django_db
def test_check_deploy_fails_when_a_third_party_stun_server_is_configured(settings):
    settings.SIGNALING_STUN_URLS = ["stun:stun.l.google.com:19302"]
    errors = policy_matches_configuration()
    assert [e.id for e in errors] == ["privacy.E001"]
    with pytest.raises(SystemCheckError):
        call_command("check", "--deploy", "--tag", "security", "--fail-level", "ERROR")


@pytest.mark.django_db
def test_the_page_shows_the_current_version_and_its_effective_date(client):
    PolicyVersion.objects.create(version="2", effective_date=date(2026, 3, 1))
    text = as_text(client.get("/privacy/").content.decode())
    assert "Version 2, effective March 1, 2026" in text


@pytest.mark.django_db
def test_a_new_version_shows_a_dated_notice_to_signed_in_users_until_dismissed(alice_client, alice):
    alice.date_joined = timezone.now() - timedelta(days=400)
    alice.save()
    PolicyVersion.objects.create(
        version="2",
        effective_date=timezone.localdate() - timedelta(days=1),
        summary_of_changes="We now name our email provider.",
    )
    page = alice_client.get("/privacy/").content.decode()
    assert "We updated our" in page and "We now name our email provider." in page
    response = alice_client.post("/privacy/notice/dismiss/", {"next": "/privacy/"})
    assert response.status_code == 302 and response["Location"] == "/privacy/"
    assert "We updated our" not in alice_client.get("/privacy/").content.decode()


@pytest.mark.django_db
def test_users_who_joined_after_the_change_see_no_notice(alice_client):
    PolicyVersion.objects.create(version="2", effective_date=timezone.localdate() - timedelta(days=10))
    assert "We updated our" not in alice_client.get("/privacy/").content.decode()


@pytest.mark.django_db
def test_anonymous_visitors_see_no_notice(client):
    PolicyVersion.objects.create(version="2", effective_date=timezone.localdate())
    assert "We updated our" not in client.get("/privacy/").content.decode()
