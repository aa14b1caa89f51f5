import assert from "node:assert/strict";
import { test } from "node:test";

import { createIceRecovery, DISCONNECTED_GRACE_MS, MAX_ICE_RESTARTS, RECOVERY_TIMEOUT_MS } from "../lib/icerecovery.js";
import { fakeClock } from "./fakes.js";

function setup({ caller = true } = {}) {
  const clock = fakeClock();
  const restartsAt = [];
  let gaveUpAt = null;
  const recovery = createIceRecovery({
    canRestart: () => caller,
    restart: () => restartsAt.push(clock.now() - start),
    giveUp: () => {
      gaveUpAt = clock.now() - start;
    },
    timers: clock,
    now: clock.now,
  });
  const start = clock.now();
  return { clock, recovery, restartsAt, gaveUp: () => gaveUpAt };
}

test("disconnected restarts ICE after a short grace, instead of waiting for a failed that comes too late", async () => {
  const t = setup();
  t.recovery.onConnectionState("connected");
  t.recovery.onConnectionState("disconnected");
  await t.clock.advance(DISCONNECTED_GRACE_MS - 1);
  assert.deepEqual(t.restartsAt, []);
  await t.clock.advance(1);
  assert.deepEqual(t.restartsAt, [2_000]);
});

test("a blip shorter than the grace heals without a restart", async () => {
  const t = setup();
  t.recovery.onConnectionState("disconnected");
  await t.clock.advance(1_000);
  t.recovery.onConnectionState("connected");
  await t.clock.advance(60_000);
  assert.deepEqual(t.restartsAt, []);
  assert.equal(t.gaveUp(), null);
});

test("while the path stays down, restarts repeat with a growing wait, and the call ends after 30 s", async () => {
  const t = setup();
  t.recovery.onConnectionState("disconnected");
  await t.clock.advance(RECOVERY_TIMEOUT_MS);
  assert.deepEqual(t.restartsAt, [2_000, 4_000, 8_000, 16_000, 24_000]);
  assert.equal(t.gaveUp(), RECOVERY_TIMEOUT_MS);
  assert.ok(t.restartsAt.length <= MAX_ICE_RESTARTS);
});

test("connected resets the count: a later loss gets the whole series again", async () => {
  const t = setup();
  t.recovery.onConnectionState("disconnected");
  await t.clock.advance(9_000);
  assert.equal(t.recovery.restarts, 3);
  t.recovery.onConnectionState("connected");
  assert.equal(t.recovery.restarts, 0);
  await t.clock.advance(60_000);
  assert.equal(t.gaveUp(), null, "the give-up timer went with the loss");
  const before = t.restartsAt.length;
  t.recovery.onConnectionState("disconnected");
  await t.clock.advance(DISCONNECTED_GRACE_MS);
  assert.equal(t.restartsAt.length, before + 1);
  assert.equal(t.recovery.restarts, 1);
});

test("failed restarts at once", async () => {
  const t = setup();
  t.recovery.onConnectionState("failed");
  assert.deepEqual(t.restartsAt, [0]);
});

test("the callee never restarts (the caller does), but still ends a call whose path never comes back", async () => {
  const t = setup({ caller: false });
  t.recovery.onConnectionState("disconnected");
  await t.clock.advance(RECOVERY_TIMEOUT_MS);
  assert.deepEqual(t.restartsAt, []);
  assert.equal(t.gaveUp(), RECOVERY_TIMEOUT_MS);
});

test("stop() cancels everything when the call ends", async () => {
  const t = setup();
  t.recovery.onConnectionState("disconnected");
  t.recovery.stop();
  await t.clock.advance(60_000);
  assert.deepEqual(t.restartsAt, []);
  assert.equal(t.gaveUp(), null);
});
