import assert from "node:assert/strict";
import { test } from "node:test";

import { BUFFER_TTL_MS, createCallPorts } from "../lib/callports.js";
import { ApiProblem } from "../lib/http.js";
import { callKey, createIncomingCalls, notificationId } from "../lib/incoming.js";
import { createFrameRouter, createMessageRouter } from "../lib/routing.js";
import { fakeClock, fakeNotifications, portPair, storageArea } from "./fakes.js";

const CALL = "call-0123456789";

function worker() {
  const clock = fakeClock();
  const session = storageArea();
  const notifications = fakeNotifications();
  const sent = [];
  const opened = [];
  let socketOpen = true;
  const sendFrame = (frame) => {
    if (!socketOpen) return false;
    sent.push(frame);
    return true;
  };
  const callPorts = createCallPorts({ sendFrame, now: clock.now });
  const incoming = createIncomingCalls({
    session,
    notifications,
    sendFrame,
    openCallWindow: async (callId) => opened.push(callId),
    now: clock.now,
    timers: clock,
  });
  const routeFrame = createFrameRouter({ session, incoming, callPorts });
  const dispatch = createMessageRouter({
    "call.accept": ({ call_id }) => incoming.accept(call_id),
    "call.decline": ({ call_id }) => incoming.decline(call_id),
  });
  return {
    clock,
    session,
    notifications,
    sent,
    opened,
    callPorts,
    incoming,
    routeFrame,
    dispatch,
    setSocketOpen: (open) => (socketOpen = open),
  };
}

const invite = { type: "call.invite", call_id: CALL, from: "alice@example.com", sdp: "v=0 offer", lifetime_ms: 60_000 };

test("an invite shows one notification with Accept and Decline, even when it arrives twice", async () => {
  const w = worker();
  await w.routeFrame(invite);
  await w.routeFrame(invite);
  assert.deepEqual(w.notifications.created, [notificationId(CALL)]);
  assert.deepEqual(
    w.notifications.shown.get(notificationId(CALL)).buttons.map((b) => b.title),
    ["Accept", "Decline"],
  );
  assert.equal((await w.session.get("ringing")).ringing[CALL].from, "alice@example.com");
});

test("Accept in the notification does what the popup's Accept does", async () => {
  for (const via of ["popup", "notification"]) {
    const w = worker();
    await w.routeFrame(invite);
    if (via === "popup") assert.deepEqual(await w.dispatch({ type: "call.accept", call_id: CALL }), { ok: true, call_id: CALL });
    else await w.incoming.onNotificationButton(notificationId(CALL), 0);
    assert.deepEqual(w.opened, [CALL], via);
    assert.equal(w.notifications.shown.size, 0, via);
    assert.deepEqual((await w.session.get("ringing")).ringing, {}, via);
    assert.equal((await w.session.get(`call:${CALL}`))[`call:${CALL}`].sdp, "v=0 offer", via);
  }
});

test("Decline in either place rejects the call and clears the notification", async () => {
  for (const via of ["popup", "notification"]) {
    const w = worker();
    await w.routeFrame(invite);
    if (via === "popup") await w.dispatch({ type: "call.decline", call_id: CALL });
    else await w.incoming.onNotificationButton(notificationId(CALL), 1);
    assert.deepEqual(w.sent, [{ type: "call.reject", call_id: CALL }], via);
    assert.equal(w.notifications.shown.size, 0, via);
    assert.deepEqual(w.opened, [], via);
  }
});

for (const frame of [
  { type: "call.answered_elsewhere", call_id: CALL },
  { type: "call.hangup", call_id: CALL, reason: "rejected" },
  { type: "call.hangup", call_id: CALL, reason: "user_hangup" },
  { type: "call.hangup", call_id: CALL, reason: "invite_timeout" },
]) {
  test(`ringing stops and the notification clears on ${frame.type} ${frame.reason || ""}`, async () => {
    const w = worker();
    await w.routeFrame(invite);
    await w.routeFrame(frame);
    assert.equal(w.notifications.shown.size, 0);
    assert.deepEqual((await w.session.get("ringing")).ringing, {});
    const answer = await w.dispatch({ type: "call.accept", call_id: CALL });
    assert.equal(answer.ok, false);
    assert.equal(answer.error.code, "not_ringing");
  });
}

test("ringing stops by itself when the invite's lifetime is over", async () => {
  const w = worker();
  await w.routeFrame(invite);
  await w.clock.advance(60_000);
  assert.equal(w.notifications.shown.size, 0);
  assert.equal((await w.dispatch({ type: "call.accept", call_id: CALL })).error.code, "not_ringing");
});

test("a restarted worker drops calls whose ringing time passed", async () => {
  const w = worker();
  await w.routeFrame(invite);
  const later = createIncomingCalls({
    session: w.session,
    notifications: w.notifications,
    sendFrame: () => true,
    openCallWindow: async () => {},
    now: () => w.clock.now() + 61_000,
  });
  await later.pruneExpired();
  assert.deepEqual(await later.ringing(), {});
});

test("presence snapshots and updates land in session storage", async () => {
  const w = worker();
  await w.routeFrame({ type: "presence.snapshot", contacts: [{ email: "a@x.io", online: true }, { email: "b@x.io", online: false }] });
  await w.routeFrame({ type: "presence.update", email: "b@x.io", online: true });
  await w.routeFrame({ type: "presence.update", email: "a@x.io", online: false });
  assert.deepEqual((await w.session.get("presence")).presence, { "a@x.io": false, "b@x.io": true });
});

test("every presence snapshot tells the popup to reload contacts, even when presence is unchanged", async () => {
  const w = worker();
  await w.routeFrame({ type: "presence.snapshot", contacts: [] });
  await w.routeFrame({ type: "presence.snapshot", contacts: [] });
  assert.equal((await w.session.get("contacts_version")).contacts_version, 2);
});

test("call frames reach the call's window, including ones that arrived before it said hello", async () => {
  const w = worker();
  await w.routeFrame({ type: "call.status", call_id: CALL, status: "ringing" });
  const [windowSide, workerSide] = portPair();
  w.callPorts.attach(workerSide);
  windowSide.postMessage({ type: "hello", call_id: CALL });
  await w.routeFrame({ type: "call.answer", call_id: CALL, sdp: "answer" });
  await w.routeFrame({ type: "call.candidates", call_id: "other-call-123", candidates: [] });
  assert.deepEqual(
    windowSide.received.map((m) => m.frame.type),
    ["call.status", "call.answer"],
  );
});

test("a window can only send frames for its own call, and an error answer finds its way back", async () => {
  const w = worker();
  const [windowSide, workerSide] = portPair();
  w.callPorts.attach(workerSide);
  windowSide.postMessage({ type: "hello", call_id: CALL });
  windowSide.postMessage({ type: "send", frame: { type: "call.hangup", call_id: "someone-elses", reason: "user_hangup" } });
  windowSide.postMessage({ type: "send", frame: { type: "call.invite", call_id: CALL, to: "bob@example.com", sdp: "o" } });
  assert.equal(w.sent.length, 1);
  assert.equal(w.sent[0].type, "call.invite");
  await w.routeFrame({ type: "error", id: w.sent[0].id, code: "not_a_contact", message: "x" });
  assert.equal(windowSide.received.at(-1).frame.code, "not_a_contact");
});

test("frames a window sends while the socket is down go out once it is back", async () => {
  const w = worker();
  const [windowSide, workerSide] = portPair();
  w.callPorts.attach(workerSide);
  windowSide.postMessage({ type: "hello", call_id: CALL });
  w.setSocketOpen(false);
  windowSide.postMessage({ type: "send", frame: { type: "call.candidates", call_id: CALL, candidates: [{ candidate: "c" }] } });
  assert.equal(w.sent.length, 0);
  w.setSocketOpen(true);
  w.callPorts.flush();
  assert.equal(w.sent[0].type, "call.candidates");
});

test("frames for a call that ends before any window opened are dropped, not kept for the worker's life", async () => {
  const w = worker();
  await w.routeFrame(invite);
  await w.routeFrame({ type: "call.candidates", call_id: CALL, candidates: [{ candidate: "c" }] });
  assert.deepEqual(w.callPorts.bufferedCalls, [CALL]);
  await w.routeFrame({ type: "call.hangup", call_id: CALL, reason: "user_hangup", from: "alice@example.com" });
  assert.deepEqual(w.callPorts.bufferedCalls, []);
});

test("frames nobody reads are dropped once they are older than a call can ring", async () => {
  const w = worker();
  await w.routeFrame({ type: "call.candidates", call_id: CALL, candidates: [{ candidate: "c" }] });
  await w.clock.advance(BUFFER_TTL_MS + 1);
  await w.routeFrame({ type: "call.status", call_id: "another-call-1", status: "ringing" });
  assert.deepEqual(w.callPorts.bufferedCalls, ["another-call-1"]);
});

test("the caller's verification commitment is kept with the ringing call, and the reveal reaches the window", async () => {
  const w = worker();
  await w.routeFrame({ ...invite, sas_commitment: "c".repeat(64) });
  assert.equal((await w.session.get(callKey(CALL)))[callKey(CALL)].sas_commitment, "c".repeat(64));
  const [windowSide, workerSide] = portPair();
  w.callPorts.attach(workerSide);
  windowSide.postMessage({ type: "hello", call_id: CALL });
  await w.routeFrame({ type: "call.sas_reveal", call_id: CALL, sas_nonce: "a".repeat(64), from: "alice@example.com" });
  assert.equal(windowSide.received.at(-1).frame.type, "call.sas_reveal");
});

test("popup messages of unknown type, and failures, answer with {code, message}", async () => {
  const dispatch = createMessageRouter({
    boom: () => {
      throw new ApiProblem("rate_limited", "x", { retryAfter: 7 });
    },
  });
  assert.deepEqual(await dispatch({ type: "nope" }), {
    ok: false,
    error: { code: "unknown_message", message: "Unknown message nope" },
  });
  assert.deepEqual(await dispatch({ type: "boom" }), {
    ok: false,
    error: { code: "rate_limited", message: "Too many attempts. Try again in 7 s." },
  });
});

test("an incoming call brings up the ringing window once, and clicking its notification brings it up again", async () => {
  const session = storageArea();
  const shown = [];
  const incoming = createIncomingCalls({
    session,
    notifications: fakeNotifications(),
    openCallWindow: async () => {},
    showRinging: async (callId) => shown.push(callId),
    sendFrame: () => true,
    timers: fakeClock(),
  });
  const invite = { type: "call.invite", call_id: "call-0001-abcd", from: "alice@example.com", sdp: "v=0", lifetime_ms: 60000 };
  await incoming.onInvite(invite);
  await incoming.onInvite(invite); // the same invite again: no second window
  assert.deepEqual(shown, ["call-0001-abcd"]);
  const focused = [];
  const focusCallWindow = async (id) => focused.push(id) && false;
  await incoming.onNotificationClicked("incoming:call-0001-abcd", { focusCallWindow });
  assert.deepEqual(shown, ["call-0001-abcd", "call-0001-abcd"], "ringing: the ringing window comes up");
  await incoming.onNotificationClicked("something-else", { focusCallWindow });
  assert.equal(shown.length, 2);
});

test("clicking the notification of an answered call focuses its call window", async () => {
  const session = storageArea();
  const shown = [];
  const incoming = createIncomingCalls({
    session,
    notifications: fakeNotifications(),
    openCallWindow: async (callId) => {
      const record = (await session.get(callKey(callId)))[callKey(callId)];
      await session.set({ [callKey(callId)]: { ...record, window_id: 42 } });
    },
    showRinging: async (callId) => shown.push(callId),
    sendFrame: () => true,
    timers: fakeClock(),
  });
  await incoming.onInvite({ type: "call.invite", call_id: "call-0002-abcd", from: "alice@example.com", sdp: "v=0" });
  await incoming.accept("call-0002-abcd");
  const focused = [];
  await incoming.onNotificationClicked("incoming:call-0002-abcd", { focusCallWindow: async (id) => focused.push(id) > 0 });
  assert.deepEqual(focused, [42]);
  assert.deepEqual(shown, ["call-0002-abcd"], "no ringing window for a call already answered");
});
