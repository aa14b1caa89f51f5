import assert from "node:assert/strict";
import { test } from "node:test";

import { durationSeconds, endTone, formatDuration, initialState, microphoneProblem, transition } from "../lib/callstate.js";

function run(role, events, peer = "bob@example.com") {
  let state = initialState({ role, peer, now: 0 });
  let t = 0;
  for (const event of events) state = transition(state, event, (t += 1000));
  return state;
}

test("a caller goes from calling to ringing to connected", () => {
  const phases = [];
  let state = initialState({ role: "caller", peer: "bob@example.com", now: 0 });
  for (const type of ["media.ready", "status.ringing", "answer.received", "ice.connected"]) {
    state = transition(state, { type }, 1000);
    phases.push(state.phase);
  }
  assert.deepEqual(phases, ["calling", "ringing", "connecting", "connected"]);
  assert.equal(state.connectedAt, 1000);
});

test("a callee answers, then connects", () => {
  const state = run("callee", [{ type: "media.ready" }, { type: "answer.sent" }, { type: "ice.connected" }]);
  assert.equal(state.phase, "connected");
});

test("a denied microphone ends the call with a message saying so, and how to fix it", () => {
  const state = run("caller", [{ type: "media.failed", cause: microphoneProblem({ name: "NotAllowedError" }) }]);
  assert.equal(state.phase, "ended");
  assert.equal(state.reason, "user_media_failed");
  assert.match(state.message, /blocked your microphone/);
  assert.match(state.message, /microphone setup/);
});

test("a missing microphone is told apart from a denied one", () => {
  const state = run("callee", [{ type: "media.failed", cause: microphoneProblem({ name: "NotFoundError" }) }]);
  assert.match(state.message, /No microphone was found/);
});

test("when the callee's microphone fails, the caller is told it was the callee's, not their own", () => {
  const state = run("caller", [{ type: "media.ready" }, { type: "status.ringing" }, { type: "hangup.received", reason: "user_media_failed" }]);
  assert.equal(state.reason, "user_media_failed");
  assert.match(state.message, /bob@example.com's microphone could not be used/);
  assert.doesNotMatch(state.message, /your microphone|allow the microphone|blocked/i);
});

test("an ordinary end is not shown as a problem; a failure is", () => {
  const hungUp = run("caller", [{ type: "media.ready" }, { type: "answer.received" }, { type: "ice.connected" }, { type: "hangup.local", reason: "user_hangup" }]);
  assert.equal(hungUp.message, "Call ended.");
  assert.equal(endTone(hungUp), "ordinary");
  assert.equal(endTone(run("callee", [{ type: "answered_elsewhere" }])), "ordinary");
  assert.equal(endTone(run("caller", [{ type: "hangup.received", reason: "ice_failed" }])), "problem");
  assert.equal(endTone(run("caller", [{ type: "media.failed" }])), "problem");
});

test("each way a call can end reads clearly to the caller", () => {
  const cases = {
    offline: /is not online/,
    rejected: /declined the call/,
    invite_timeout: /did not answer/,
    user_busy: /is busy/,
    ice_failed: /connection failed/,
  };
  for (const [reason, pattern] of Object.entries(cases)) {
    const state = run("caller", [{ type: "media.ready" }, { type: "status.ringing" }, { type: "hangup.received", reason }]);
    assert.equal(state.phase, "ended");
    assert.equal(state.reason, reason);
    assert.match(state.message, pattern);
    assert.match(state.message, reason === "ice_failed" ? /./ : /bob@example.com/);
  }
});

test("not being a mutual contact ends the call with an explanation", () => {
  const state = run("caller", [{ type: "media.ready" }, { type: "error", code: "not_a_contact" }]);
  assert.match(state.message, /mutual contacts/);
});

test("an ICE failure mid-call reconnects, and a restored path returns to connected keeping the start time", () => {
  let state = run("caller", [{ type: "media.ready" }, { type: "answer.received" }, { type: "ice.connected" }]);
  const connectedAt = state.connectedAt;
  state = transition(state, { type: "ice.failed" }, 10_000);
  assert.equal(state.phase, "reconnecting");
  state = transition(state, { type: "ice.connected" }, 12_000);
  assert.equal(state.phase, "connected");
  assert.equal(state.connectedAt, connectedAt);
});

test("an ended call ignores later frames", () => {
  let state = run("caller", [{ type: "media.ready" }, { type: "hangup.local", reason: "user_hangup" }]);
  assert.equal(state.message, "Call cancelled.");
  const after = transition(state, { type: "answer.received" });
  assert.equal(after, state);
});

test("hanging up a connected call reports its duration", () => {
  let state = initialState({ role: "caller", peer: "b", now: 0 });
  state = transition(state, { type: "media.ready" }, 0);
  state = transition(state, { type: "answer.received" }, 1000);
  state = transition(state, { type: "ice.connected" }, 2000);
  state = transition(state, { type: "hangup.local", reason: "user_hangup" }, 65_500);
  assert.equal(state.message, "Call ended.");
  assert.equal(durationSeconds(state, 999_999), 63);
  assert.equal(formatDuration(63), "1:03");
});

test("an answer from the wrong side or at the wrong time changes nothing", () => {
  const callee = run("callee", [{ type: "media.ready" }]);
  assert.equal(transition(callee, { type: "answer.received" }), callee);
  const preparing = initialState({ role: "caller", peer: "b" });
  assert.equal(transition(preparing, { type: "ice.connected" }), preparing);
});

test("a call answered on another device ends on this one", () => {
  const state = run("callee", [{ type: "media.ready" }, { type: "answered_elsewhere" }]);
  assert.equal(state.reason, "answered_elsewhere");
});
