"""Password change and reset keep two-factor sign-in on; a reset never gets past the code."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from tests.conftest import PASSWORD
from tests.twofactor.conftest import code, code_step, emails_to, logged_in, password_step
from twofactor.models import Authenticator
from twofactor.testing import force_login_with_two_factor

NEW_PASSWORD = "a fresh password 2031"


def test_a_password_reset_sets_the_password_and_the_next_login_still_asks_for_a_code(client, alice, secret):
    client.post("/password-reset/", {"email": "alice@example.com"})
    link = re.search(r"https?://\S+/reset/\S+", emails_to("alice@example.com")[-1].body).group(0)
    form_page = client.get(urlsplit(link).path, follow=True)
    response = client.post(form_page.wsgi_request.path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert not logged_in(client)
    assert password_step(client, password=NEW_PASSWORD)["Location"] == "/login/two-factor/"
    assert not logged_in(client)
    assert code_step(client, code(secret)).status_code == 302
    assert Authenticator.objects.enabled().filter(user=alice).exists()


def test_changing_the_password_keeps_two_factor_on_and_this_session_logged_in(client, alice):
    force_login_with_two_factor(client, alice)
    response = client.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert logged_in(client)
    assert Authenticator.objects.enabled().filter(user=alice).exists()
