"""Property: contact consent holds over any sequence of the contract's operations (issue #10).

Alice and Bob ask, accept, delete and block each other, and a stranger, through
the real API. The stranger is two addresses treated alike: ghost@ has no
account, twin@ has a verified account that never acts. After every step:

- mutual => both sides consented (asked or accepted) after the last block
  between them, and neither withdrew since; a block stays with its owner;
- every answer and list about ghost@ equals the one about twin@;
- presence (`mutual_contacts`, which builds snapshots and updates) and call
  invites (`is_mutual_contact`) reach exactly the mutual contacts.

The operations go through the API; the lists are read back after each step
with `list_contacts()`, the function GET /api/contacts/ answers with (a third
of the cost of three more requests per step). The oracle below is deliberately weaker than the implementation (it knows
nothing of declines or of voiding a request on lifting a block), so it checks
the promises, not a copy of the code.
"""

from __future__ import annotations

import uuid
from itertools import permutations
from typing import Any

import pytest
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from rest_framework.test import APIClient

from accounts.tokens import issue_pair
from signaling.contacts import is_mutual_contact, list_contacts, mutual_contacts
from signaling.models import Contact
from tests.conftest import make_user

GHOST, TWIN = "ghost@example.com", "twin@example.com"
PEER, STRANGER = "peer", "stranger"  # whom an actor acts on: the other actor, or the stranger (both addresses)
ACTORS = ("alice@example.com", "bob@example.com")
OPS = ("accept", "delete", "block")

# 30 sequences of up to 12 steps: about 11 s of CPU, under 30 s on the busy shared 2-core machine.
STEPS = settings(max_examples=30, stateful_step_count=12)


def _client(user: Any) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_pair(user).access}")
    return client


def _answer(response: Any) -> tuple[int, dict[str, Any]]:
    body = response.json() if response.content else {}
    return response.status_code, body


class ContactConsent(RuleBasedStateMachine):
    users: dict[str, Any]

    def __init__(self) -> None:
        super().__init__()
        Contact.objects.all().delete()
        # Fresh tokens per sequence: access tokens live 5 minutes, shrinking a failure can take longer.
        self.clients = {email: _client(user) for email, user in self.users.items()}
        # (who, whom): whom `who` consented to since the last cut (their block, our block, withdrawal, removal).
        self.consented: set[tuple[str, str]] = set()
        # (who, whom): `who` blocked `whom` and has not asked them since.
        self.blocked: set[tuple[str, str]] = set()
        # (who, address) -> the last relation id `who` saw for that address (kept when it goes stale).
        self.known: dict[tuple[str, str], str] = {}
        self.lists: dict[str, dict[str, dict[str, str]]] = {}
        self.steps = -1
        self._read_lists()

    def teardown(self) -> None:
        event("steps in this sequence", str(self.steps))

    # --- the contract's operations ---
    @rule(actor=st.sampled_from(ACTORS), whom=st.sampled_from((PEER, STRANGER)))
    def ask(self, actor: str, whom: str) -> None:
        for target, answer in self._each_target(actor, whom, self._ask):
            status, body = answer
            assert status == 201, body
            assert body["status"] in ("mutual", "outgoing")
            if (actor, target) in self.blocked or (target, actor) in self.blocked:
                assert body["status"] == "outgoing", "asking across a block must wait for an accept"
            self.known[(actor, target)] = body["id"]
            self.consented.add((actor, target))
            self.blocked.discard((actor, target))
        self._read_lists()

    @rule(actor=st.sampled_from(ACTORS), whom=st.sampled_from((PEER, STRANGER)), op=st.sampled_from(OPS))
    def act_on_the_relation(self, actor: str, whom: str, op: str) -> None:
        before = {target: self._status(actor, target) for target in self._targets(actor, whom)}
        for target, (status, body) in self._each_target(actor, whom, lambda a, t: self._act(a, t, op)):
            if op == "accept" and status == 200:
                assert before[target] in ("incoming", "mutual") and body["status"] == "mutual"
                self.consented.add((actor, target))
            elif op == "accept":
                assert (status, body["code"]) in ((400, "invalid"), (404, "not_found")), body
                assert (status == 400) == (before[target] == "outgoing"), "only the asker's own accept is invalid"
            elif status == 204:
                assert before[target] is not None, "acted on a relation the actor could not see"
                self.consented.discard((actor, target))
                if op == "block" or before[target] == "mutual":
                    self.consented.discard((target, actor))
                if op == "block":
                    self.blocked.add((actor, target))
            else:
                assert (status, body["code"]) == (404, "not_found"), body
                assert before[target] is None, "a visible relation was not found"
        self._read_lists()

    # --- the invariants (on the lists every rule reads back after acting) ---
    @invariant()
    def mutual_means_both_consented_since_the_last_block(self) -> None:
        for who, whom in permutations(self.users, 2):
            if self._status(who, whom) == "mutual":
                assert (who, whom) in self.consented and (whom, who) in self.consented, (who, whom)

    @invariant()
    def a_block_stays_with_the_person_who_blocked(self) -> None:
        for who, whom in self.blocked:
            assert whom not in self.lists[who], f"{who} blocked {whom} but sees them"
            if whom in self.lists:
                assert self._status(whom, who) in (None, "outgoing")

    @invariant()
    def both_sides_see_one_relation_with_one_id(self) -> None:
        for who, whom in permutations(self.users, 2):
            mine, theirs = self.lists[who].get(whom), self.lists[whom].get(who)
            if mine is None or theirs is None:
                continue
            assert mine["id"] == theirs["id"]
            assert {mine["status"], theirs["status"]} in ({"mutual"}, {"outgoing", "incoming"})

    @invariant()
    def the_answers_never_depend_on_whether_the_address_has_an_account(self) -> None:
        for actor in ACTORS:
            assert self._status(actor, GHOST) == self._status(actor, TWIN)
        assert {c["status"] for c in self.lists[TWIN].values()} <= {"incoming"}, "the twin never acts"

    @invariant()
    def presence_and_invites_only_reach_mutual_contacts(self) -> None:
        for who, user in self.users.items():
            mutual = {self.users[email].pk: email for email, c in self.lists[who].items() if c["status"] == "mutual"}
            assert mutual_contacts(user.pk) == mutual
            for whom, other in self.users.items():
                if whom != who:
                    assert is_mutual_contact(user.pk, other.pk) == (other.pk in mutual)

    # --- helpers ---
    def _targets(self, actor: str, whom: str) -> list[str]:
        return [GHOST, TWIN] if whom == STRANGER else [a for a in ACTORS if a != actor]

    def _each_target(self, actor: str, whom: str, op: Any) -> list[tuple[str, tuple[int, dict[str, Any]]]]:
        """Run `op` on each target; for the stranger, on both addresses, answering alike."""
        answers = [(target, op(actor, target)) for target in self._targets(actor, whom)]
        if whom == STRANGER:
            (_, (ghost_status, ghost)), (_, (twin_status, twin)) = answers
            hidden = {"id", "email"}
            assert ghost_status == twin_status
            assert {k: v for k, v in ghost.items() if k not in hidden} == {
                k: v for k, v in twin.items() if k not in hidden
            }
        return answers

    def _ask(self, actor: str, target: str) -> tuple[int, dict[str, Any]]:
        return _answer(self.clients[actor].post("/api/contacts/", {"email": target}, format="json"))

    def _act(self, actor: str, target: str, op: str) -> tuple[int, dict[str, Any]]:
        contact_id = self.known.get((actor, target), str(uuid.uuid4()))
        client = self.clients[actor]
        if op == "delete":
            return _answer(client.delete(f"/api/contacts/{contact_id}/"))
        return _answer(client.post(f"/api/contacts/{contact_id}/{op}/"))

    def _read_lists(self) -> None:
        self.steps += 1
        for who in self.users:
            rows = [view.as_dict() for view in list_contacts(self.users[who])]
            by_email = {row["email"]: row for row in rows}
            assert len(by_email) == len(rows), f"{who} sees two relations with one person"
            self.lists[who] = by_email
            for email, row in by_email.items():
                self.known[(who, email)] = row["id"]

    def _status(self, who: str, whom: str) -> str | None:
        row = self.lists[who].get(whom)
        return row["status"] if row else None


@pytest.mark.django_db
@pytest.mark.timeout(600)  # a failure shrinks for up to Hypothesis' 300 s, then is reported
def test_consent_holds_over_any_sequence_of_asks_accepts_deletes_and_blocks() -> None:
    users = {email: make_user(email) for email in (*ACTORS, TWIN)}
    ContactConsent.users = users
    run_state_machine_as_test(ContactConsent, settings=STEPS)


# Lets `pytest --hypothesis-show-statistics` report the examples and steps run,
# as Hypothesis marks its own stateful TestCase.runTest.
test_consent_holds_over_any_sequence_of_asks_accepts_deletes_and_blocks.is_hypothesis_test = True  # type: ignore[attr-defined]
