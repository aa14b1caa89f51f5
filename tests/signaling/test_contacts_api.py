"""The contacts API: asking, accepting, declining, removing, blocking, with no user enumeration."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.tokens import issue_pair
from tests.conftest import make_user


def api(user) -> APIClient:  # type: ignore[no-untyped-def]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_pair(user).access}")
    return client


@pytest.fixture
def charlie(db):  # type: ignore[no-untyped-def]
    return make_user("charlie@example.com")


def test_asking_a_stranger_and_asking_nobody_answer_the_same(alice, bob):
    a = api(alice)
    known = a.post("/api/contacts/", {"email": "bob@example.com"}, format="json")
    unknown = a.post("/api/contacts/", {"email": "nobody@example.com"}, format="json")
    assert known.status_code == unknown.status_code == 201
    assert set(known.json()) == set(unknown.json()) == {"id", "email", "status"}
    assert known.json()["status"] == unknown.json()["status"] == "outgoing"


def test_an_unverified_account_is_answered_like_no_account_and_sees_no_request(alice, unverified):
    response = api(alice).post("/api/contacts/", {"email": unverified.email}, format="json")
    assert response.json()["status"] == "outgoing"


def test_accepting_makes_one_mutual_contact_with_the_same_id_on_both_sides(alice, bob):
    asked = api(alice).post("/api/contacts/", {"email": "bob@example.com"}, format="json").json()
    incoming = api(bob).get("/api/contacts/").json()
    assert incoming == [{"id": asked["id"], "email": "alice@example.com", "status": "incoming"}]
    accepted = api(bob).post(f"/api/contacts/{asked['id']}/accept/")
    assert accepted.status_code == 200
    assert accepted.json() == {"id": asked["id"], "email": "alice@example.com", "status": "mutual"}
    assert api(alice).get("/api/contacts/").json() == [
        {"id": asked["id"], "email": "bob@example.com", "status": "mutual"}
    ]


def test_asking_someone_who_already_asked_you_is_mutual_at_once(alice, bob):
    asked = api(alice).post("/api/contacts/", {"email": "bob@example.com"}, format="json").json()
    back = api(bob).post("/api/contacts/", {"email": "ALICE@example.com"}, format="json")
    assert back.status_code == 201
    assert back.json() == {"id": asked["id"], "email": "alice@example.com", "status": "mutual"}


def test_a_request_to_an_address_counts_once_that_person_signs_up(alice, db):
    asked = api(alice).post("/api/contacts/", {"email": "dave@example.com"}, format="json").json()
    dave = make_user("dave@example.com")
    assert api(dave).get("/api/contacts/").json() == [
        {"id": asked["id"], "email": "alice@example.com", "status": "incoming"}
    ]


def test_declining_hides_the_request_but_the_asker_still_sees_outgoing(alice, bob):
    asked = api(alice).post("/api/contacts/", {"email": "bob@example.com"}, format="json").json()
    assert api(bob).delete(f"/api/contacts/{asked['id']}/").status_code == 204
    assert api(bob).get("/api/contacts/").json() == []
    assert api(alice).get("/api/contacts/").json()[0]["status"] == "outgoing"
    again = api(alice).post("/api/contacts/", {"email": "bob@example.com"}, format="json")
    assert again.json()["status"] == "outgoing"
    assert api(bob).get("/api/contacts/").json() == []


def test_removing_a_mutual_contact_removes_it_for_both(alice, bob):
    asked = api(alice).post("/api/contacts/", {"email": "bob@example.com"}, format="json").json()
    api(bob).post(f"/api/contacts/{asked['id']}/accept/")
    assert api(alice).delete(f"/api/contacts/{asked['id']}/").status_code == 204
    assert api(alice).get("/api/contacts/").json() == []
    assert api(bob).get("/api/contacts/").json() == []


def test_blocking_hides_that_persons_future_requests(alice, bob):
    asked = api(alice).post("/api/contacts/", {"email": "bob@example.com"}, format="json").json()
    assert api(bob).post(f"/api/contacts/{asked['id']}/block/").status_code == 204
    api(alice).post("/api/contacts/", {"email": "bob@example.com"}, format="json")
    assert api(bob).get("/api/contacts/").json() == []
    assert [c["status"] for c in api(alice).get("/api/contacts/").json()] == ["outgoing"]


def test_blocking_a_mutual_contact_leaves_them_seeing_outgoing(alice, bob):
    asked = api(alice).post("/api/contacts/", {"email": "bob@example.com"}, format="json").json()
    api(bob).post(f"/api/contacts/{asked['id']}/accept/")
    api(alice).post(f"/api/contacts/{asked['id']}/block/")
    assert api(alice).get("/api/contacts/").json() == []
    assert [(c["email"], c["status"]) for c in api(bob).get("/api/contacts/").json()] == [
        ("alice@example.com", "outgoing")
    ]


def test_someone_elses_contact_is_not_found(alice, bob, charlie):
    asked = api(alice).post("/api/contacts/", {"email": "bob@example.com"}, format="json").json()
    for response in (
        api(charlie).delete(f"/api/contacts/{asked['id']}/"),
        api(charlie).post(f"/api/contacts/{asked['id']}/accept/"),
        api(charlie).post(f"/api/contacts/{asked['id']}/block/"),
        api(charlie).delete("/api/contacts/not-a-uuid/"),
    ):
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


def test_the_asker_cannot_accept_their_own_request(alice, bob):
    asked = api(alice).post("/api/contacts/", {"email": "bob@example.com"}, format="json").json()
    response = api(alice).post(f"/api/contacts/{asked['id']}/accept/")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_adding_yourself_or_a_malformed_email_is_refused(alice):
    assert api(alice).post("/api/contacts/", {"email": "alice@example.com"}, format="json").json()["code"] == "invalid"
    assert api(alice).post("/api/contacts/", {"email": "nope"}, format="json").json()["code"] == "invalid"


def test_anonymous_requests_are_refused(db):
    response = APIClient().get("/api/contacts/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_the_dashboard_page_lists_and_manages_contacts(client, alice, bob):
    api(bob).post("/api/contacts/", {"email": "alice@example.com"}, format="json")
    client.force_login(alice)
    page = client.get("/dashboard/contacts/")
    assert page.status_code == 200
    assert b"bob@example.com" in page.content
    contact_id = api(alice).get("/api/contacts/").json()[0]["id"]
    assert client.post(f"/dashboard/contacts/{contact_id}/accept/").status_code == 302
    assert api(alice).get("/api/contacts/").json()[0]["status"] == "mutual"
    assert client.post("/dashboard/contacts/", {"email": "x@example.com"}).status_code == 302


def test_the_dashboard_page_refuses_unverified_accounts(client, unverified):
    client.force_login(unverified)
    assert client.get("/dashboard/contacts/").status_code == 403


# --- consent: only the other person's explicit accept makes a contact mutual (issue #10) ---


def _ask(user, email: str) -> dict:  # type: ignore[no-untyped-def]
    response = api(user).post("/api/contacts/", {"email": email}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def _ids(user) -> list[str]:  # type: ignore[no-untyped-def]
    return [c["id"] for c in api(user).get("/api/contacts/").json()]


def _statuses(user) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {c["email"]: c["status"] for c in api(user).get("/api/contacts/").json()}


def test_asking_again_after_blocking_your_own_request_still_waits_for_their_accept(alice, bob):
    # Mallory (alice) asks Carol (bob), blocks her own outgoing request, asks again.
    asked = _ask(alice, "bob@example.com")
    assert api(alice).post(f"/api/contacts/{asked['id']}/block/").status_code == 204
    again = _ask(alice, "bob@example.com")
    assert again["status"] == "outgoing"
    assert _statuses(alice) == {"bob@example.com": "outgoing"}
    assert _statuses(bob) == {"alice@example.com": "incoming"}


def test_the_same_three_steps_answer_the_same_for_an_address_with_no_account(alice, bob):
    answers = {}
    for email in ("bob@example.com", "nobody@example.com"):
        asked = _ask(alice, email)
        blocked = api(alice).post(f"/api/contacts/{asked['id']}/block/")
        again = _ask(alice, email)
        answers[email] = (asked["status"], blocked.status_code, again["status"])
    assert answers["bob@example.com"] == answers["nobody@example.com"] == ("outgoing", 204, "outgoing")


def test_asking_someone_you_blocked_lifts_your_block_and_waits_for_their_accept(alice, bob):
    # Carol (bob) blocks Mallory's (alice's) request, then asks Mallory herself.
    asked = _ask(alice, "bob@example.com")
    api(bob).post(f"/api/contacts/{asked['id']}/block/")
    lifted = _ask(bob, "alice@example.com")
    assert lifted["status"] == "outgoing"
    assert _statuses(alice) == {"bob@example.com": "incoming"}
    accepted = api(alice).post(f"/api/contacts/{lifted['id']}/accept/")
    assert accepted.json()["status"] == "mutual"
    assert _statuses(bob) == {"alice@example.com": "mutual"}


def test_a_blocked_person_cannot_lift_the_block_by_withdrawing_and_asking_again(alice, bob):
    asked = _ask(alice, "bob@example.com")
    api(bob).post(f"/api/contacts/{asked['id']}/block/")
    [seen] = _ids(alice)
    assert api(alice).delete(f"/api/contacts/{seen}/").status_code == 204
    assert _statuses(alice) == {}
    assert _ask(alice, "bob@example.com")["status"] == "outgoing"
    assert _statuses(bob) == {}


def test_a_blocked_person_asking_while_blocked_gains_nothing_when_the_block_is_lifted(alice, bob):
    asked = _ask(alice, "bob@example.com")
    api(bob).post(f"/api/contacts/{asked['id']}/block/")
    _ask(alice, "bob@example.com")
    assert _ask(bob, "alice@example.com")["status"] == "outgoing"


def test_removing_a_mutual_contact_and_asking_again_needs_a_new_accept(alice, bob):
    asked = _ask(alice, "bob@example.com")
    api(bob).post(f"/api/contacts/{asked['id']}/accept/")
    api(alice).delete(f"/api/contacts/{asked['id']}/")
    assert _ask(alice, "bob@example.com")["status"] == "outgoing"
    assert _statuses(bob) == {"alice@example.com": "incoming"}


def test_a_block_keeps_the_id_and_accepting_after_it_is_refused_on_both_sides(alice, bob):
    asked = _ask(alice, "bob@example.com")
    api(bob).post(f"/api/contacts/{asked['id']}/block/")
    by_blocker = api(bob).post(f"/api/contacts/{asked['id']}/accept/")
    assert _ids(alice) == [asked["id"]]
    by_blocked = api(alice).post(f"/api/contacts/{asked['id']}/accept/")
    assert (by_blocker.status_code, by_blocker.json()["code"]) == (404, "not_found")
    assert (by_blocked.status_code, by_blocked.json()["code"]) == (400, "invalid")
    assert _statuses(alice) == {"bob@example.com": "outgoing"}
    assert _statuses(bob) == {}


def test_blocking_your_own_request_withdraws_it_from_their_list(alice, bob):
    asked = _ask(alice, "bob@example.com")
    api(alice).post(f"/api/contacts/{asked['id']}/block/")
    assert _statuses(alice) == {}
    assert _statuses(bob) == {}
    assert api(bob).post(f"/api/contacts/{asked['id']}/accept/").status_code == 404
    assert _ask(bob, "alice@example.com")["status"] == "outgoing"
    assert _statuses(alice) == {}


def test_the_dashboard_says_you_are_contacts_only_when_they_had_asked_you(client, alice, bob):
    client.force_login(alice)
    first = client.post("/dashboard/contacts/", {"email": "bob@example.com"}, follow=True)
    assert b"Request sent" in first.content
    client.force_login(bob)
    back = client.post("/dashboard/contacts/", {"email": "alice@example.com"}, follow=True)
    assert b"You are now contacts." in back.content
    assert _statuses(bob) == {"alice@example.com": "mutual"}


def test_a_request_to_an_address_finds_its_owner_in_any_spelling_of_the_domain(alice, db):
    asked = api(alice).post("/api/contacts/", {"email": "dave@b\u00fccher.example"}, format="json").json()
    dave = make_user("Dave@XN--BCHER-KVA.example")
    assert api(dave).get("/api/contacts/").json() == [
        {"id": asked["id"], "email": "alice@example.com", "status": "incoming"}
    ]
