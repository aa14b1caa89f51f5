import assert from "node:assert/strict";
import { test } from "node:test";

import { closePolicy, MAX_DELAY_MS, reconnectDelay, RESTART_SPREAD_MS } from "../lib/backoff.js";
import { AUTH_TIMEOUT_MS, createSignaling, KEEPALIVE_INTERVAL_MS, PING_INTERVAL_MS, TOKEN_TIMEOUT_MS } from "../lib/signaling.js";
import { fakeClock, fakeWebSocketClass, settle } from "./fakes.js";

function setup({ accessToken, keepAlive = () => {}, random = () => 0.5, explainRefusal } = {}) {
  const clock = fakeClock();
  const { FakeWebSocket, sockets } = fakeWebSocketClass();
  const states = [];
  const frames = [];
  const refreshes = [];
  const tokens = {
    accessToken:
      accessToken ||
      (async ({ forceRefresh = false } = {}) => {
        if (forceRefresh) refreshes.push(true);
        return `token-${refreshes.length}`;
      }),
  };
  const signaling = createSignaling({
    url: "wss://numfree.com/ws/signaling/",
    tokens,
    deviceId: async () => "ext-device-1",
    onFrame: (frame) => frames.push(frame),
    onState: (status) => states.push(status),
    keepAlive,
    ...(explainRefusal ? { explainRefusal } : {}),
    WebSocketImpl: FakeWebSocket,
    timers: clock,
    random,
  });
  return { clock, sockets, states, frames, refreshes, signaling, FakeWebSocket };
}

async function connected(t) {
  await t.signaling.start();
  const ws = t.sockets.at(-1);
  ws.open();
  ws.receive({ type: "auth.ok", email: "alice@example.com" });
  return ws;
}

test("the first frame authenticates with the token and the install's device id, never in the URL", async () => {
  const t = setup();
  const ws = await connected(t);
  assert.equal(ws.url, "wss://numfree.com/ws/signaling/");
  assert.deepEqual(ws.sent[0], { type: "auth", token: "token-0", device_id: "ext-device-1", id: "auth" });
  assert.equal(t.signaling.state, "open");
  assert.equal(t.frames[0].type, "auth.ok");
});

test("a ping goes out every 20 seconds while connected", async () => {
  const t = setup();
  const ws = await connected(t);
  await t.clock.advance(PING_INTERVAL_MS);
  assert.equal(ws.sent.at(-1).type, "ping");
  ws.receive({ type: "pong", id: ws.sent.at(-1).id });
  await t.clock.advance(PING_INTERVAL_MS);
  assert.equal(ws.sent.filter((f) => f.type === "ping").length, 2);
  assert.equal(ws.closed, null);
});

test("an unanswered ping closes the socket and reconnects", async () => {
  const t = setup();
  const ws = await connected(t);
  await t.clock.advance(2 * PING_INTERVAL_MS);
  assert.equal(ws.closed, 4000);
  assert.equal(t.signaling.state, "waiting");
  await t.clock.advance(t.states.at(-1).retryInMs);
  assert.equal(t.sockets.length, 2);
});

test("no auth.ok within the deadline closes and retries", async () => {
  const t = setup();
  await t.signaling.start();
  t.sockets[0].open();
  await t.clock.advance(10_000);
  assert.equal(t.sockets[0].closed, 4000);
  assert.equal(t.signaling.state, "waiting");
});

test("reconnect delays grow exponentially with jitter and are capped", () => {
  assert.equal(reconnectDelay(0, { random: () => 0 }), 500);
  assert.equal(reconnectDelay(0, { random: () => 1 }), 1000);
  assert.equal(reconnectDelay(3, { random: () => 0.5 }), 6000);
  assert.equal(reconnectDelay(20, { random: () => 1 }), MAX_DELAY_MS);
  const spread = new Set(Array.from({ length: 20 }, () => reconnectDelay(4)));
  assert.ok(spread.size > 1, "jitter spreads clients out");
});

test("dropped connections back off longer each time and reset after success", async () => {
  const t = setup();
  const ws = await connected(t);
  ws.serverClose(1006);
  const delays = [];
  for (let i = 0; i < 4; i++) {
    delays.push(t.states.at(-1).retryInMs);
    await t.clock.advance(t.states.at(-1).retryInMs);
    t.sockets.at(-1).serverClose(1006);
    await settle(); // a handshake that fails before opening first asks the server why
  }
  assert.deepEqual(delays, [750, 1500, 3000, 6000]);
  await t.clock.advance(t.states.at(-1).retryInMs);
  t.sockets.at(-1).open();
  t.sockets.at(-1).receive({ type: "auth.ok", email: "a" });
  assert.equal(t.signaling.attempt, 0);
});

for (const code of [4403, 4408, 4409]) {
  test(`close code ${code} stops for good with a message`, async () => {
    const t = setup();
    const ws = await connected(t);
    ws.serverClose(code);
    await t.clock.advance(10 * MAX_DELAY_MS);
    assert.equal(t.sockets.length, 1);
    assert.equal(t.signaling.state, "stopped");
    assert.equal(t.states.at(-1).code, code);
    assert.ok(t.states.at(-1).message.length > 10);
  });
}

test("close code 4401 refreshes the token once and reconnects right away", async () => {
  const t = setup();
  const ws = await connected(t);
  ws.serverClose(4401);
  await settle();
  assert.equal(t.refreshes.length, 1);
  assert.equal(t.sockets.length, 2);
  t.sockets[1].open();
  assert.equal(t.sockets[1].sent[0].token, "token-1");
  t.sockets[1].serverClose(4401);
  await settle();
  await t.clock.advance(10 * MAX_DELAY_MS);
  assert.equal(t.refreshes.length, 1, "only one refresh-and-retry");
  assert.equal(t.sockets.length, 2);
  assert.equal(t.signaling.state, "stopped");
});

test("a revoked sign-in during the 4401 retry ends in signed_out, not a reconnect loop", async () => {
  let calls = 0;
  const t = setup({
    accessToken: async () => {
      calls += 1;
      if (calls > 1) throw Object.assign(new Error("revoked"), { code: "token_revoked" });
      return "token";
    },
  });
  const ws = await connected(t);
  ws.serverClose(4401);
  await settle();
  await t.clock.advance(10 * MAX_DELAY_MS);
  assert.equal(t.signaling.state, "signed_out");
  assert.equal(t.sockets.length, 1);
});

test("rate limiting (4429) waits at least ten seconds", async () => {
  const t = setup();
  const ws = await connected(t);
  ws.serverClose(4429);
  assert.ok(t.states.at(-1).retryInMs >= 10_000);
  assert.equal(closePolicy(4429).action, "backoff");
});

test("the user's reconnect clears a stop", async () => {
  const t = setup();
  const ws = await connected(t);
  ws.serverClose(4409);
  assert.equal(t.signaling.state, "stopped");
  await t.signaling.restart();
  assert.equal(t.sockets.length, 2);
});

test("frames are sent only on an authenticated socket", async () => {
  const t = setup();
  await t.signaling.start();
  t.sockets[0].open();
  assert.equal(t.signaling.send({ type: "call.hangup", call_id: "abcdefgh" }), false);
  t.sockets[0].receive({ type: "auth.ok", email: "a" });
  assert.equal(t.signaling.send({ type: "call.hangup", call_id: "abcdefgh" }), true);
});

/** accessToken() calls that wait until the test releases them. */
function slowTokens() {
  const waiting = [];
  return {
    waiting,
    accessToken: () => new Promise((resolve) => waiting.push(resolve)),
    releaseAll: async () => {
      for (const resolve of waiting.splice(0)) resolve("token");
      await settle();
    },
  };
}

test("a sign-in's restart while a connection attempt waits for its token opens one socket, not two", async () => {
  const slow = slowTokens();
  const t = setup({ accessToken: slow.accessToken });
  t.signaling.start(); // the worker waking
  t.signaling.restart(); // the popup's sign-in, at the same moment
  t.signaling.start(); // a call window's port
  await slow.releaseAll();
  assert.equal(t.sockets.length, 1);
});

test("an attempt overtaken by stop and restart opens no orphan socket with the same device id", async () => {
  const slow = slowTokens();
  const t = setup({ accessToken: slow.accessToken });
  t.signaling.start();
  await settle();
  t.signaling.stop("stopped");
  t.signaling.restart();
  await slow.releaseAll();
  assert.equal(t.sockets.length, 1);
  t.sockets[0].open();
  t.sockets[0].receive({ type: "auth.ok", email: "a" });
  assert.equal(t.signaling.state, "open");
});

test("a stale socket that opens late never authenticates", async () => {
  const t = setup();
  await t.signaling.start();
  const stale = t.sockets[0];
  t.signaling.stop("stopped");
  await t.signaling.restart();
  stale.open(); // the handshake of the abandoned socket completes after all
  assert.deepEqual(stale.sent, []);
  t.sockets[1].open();
  assert.equal(t.sockets[1].sent[0].type, "auth");
});

test("a handshake that never completes is abandoned after the deadline and retried", async () => {
  const t = setup();
  await t.signaling.start();
  assert.equal(t.signaling.state, "connecting");
  await t.clock.advance(AUTH_TIMEOUT_MS);
  assert.equal(t.sockets[0].closed, 4000);
  assert.equal(t.signaling.state, "waiting");
  await t.clock.advance(t.states.at(-1).retryInMs);
  assert.equal(t.sockets.length, 2);
});

test("a token request that hangs does not leave the socket connecting forever", async () => {
  const slow = slowTokens();
  const t = setup({ accessToken: slow.accessToken });
  t.signaling.start();
  await settle();
  await t.clock.advance(TOKEN_TIMEOUT_MS);
  assert.equal(t.signaling.state, "waiting");
  assert.match(t.states.at(-1).message, /too long/);
  slow.waiting.splice(0);
  await t.clock.advance(t.states.at(-1).retryInMs);
  assert.equal(slow.waiting.length, 1, "a new attempt asks for a token again");
});

test("opening the popup retries a pending reconnect at once", async () => {
  const t = setup();
  const ws = await connected(t);
  ws.serverClose(4429); // at least ten seconds to wait
  assert.equal(t.signaling.state, "waiting");
  await t.signaling.retryNow();
  assert.equal(t.sockets.length, 2);
  assert.equal(t.signaling.state, "connecting");
  await t.signaling.retryNow(); // already on its way: no second socket
  assert.equal(t.sockets.length, 2);
});

test("reconnect delays stay below the 30 s after which Chrome stops an idle worker", () => {
  for (let attempt = 0; attempt < 40; attempt++) assert.ok(reconnectDelay(attempt, { random: () => 1 }) < 30_000);
});

test("while a reconnect is pending the worker is kept awake every 20 s, and not once connected", async () => {
  let calls = 0;
  const t = setup({ keepAlive: () => (calls += 1) });
  const ws = await connected(t);
  await t.clock.advance(KEEPALIVE_INTERVAL_MS + 1_000); // connected: the socket's ping keeps it awake
  assert.equal(calls, 0);
  ws.serverClose(1006);
  for (let i = 0; i < 9; i++) {
    await t.clock.advance(KEEPALIVE_INTERVAL_MS);
    t.sockets.at(-1).serverClose(1006); // the server is still down
  }
  assert.ok(calls >= 9, `keepAlive ran ${calls} times`);
  assert.ok(KEEPALIVE_INTERVAL_MS < 30_000);
});

test("through a three-minute outage the worker never idles 30 s, and is back within 30 s of the server's return", async () => {
  const t = setup();
  // Chrome stops an extension worker after 30 s without an event or extension API call; here
  // every state write (chrome.storage) and keepAlive counts as one.
  let lastActivity = t.clock.now();
  let longestIdle = 0;
  const active = () => {
    longestIdle = Math.max(longestIdle, t.clock.now() - lastActivity);
    lastActivity = t.clock.now();
  };
  t.signaling = createSignalingForOutage(t, active);
  const ws = await connected(t);
  const outageStart = t.clock.now();
  ws.serverClose(1006);
  let serverUp = false;
  const returnedAt = outageStart + 180_000;
  let openedAt = null;
  while (openedAt === null && t.clock.now() < returnedAt + 120_000) {
    await t.clock.advance(250);
    serverUp = t.clock.now() >= returnedAt;
    const latest = t.sockets.at(-1);
    if (latest.closed || latest.handled) continue;
    latest.handled = true;
    if (!serverUp) latest.serverClose(1006);
    else {
      latest.open();
      latest.receive({ type: "auth.ok", email: "a" });
      openedAt = t.clock.now();
    }
  }
  assert.ok(openedAt !== null && openedAt - returnedAt <= 30_000, `back ${(openedAt - returnedAt) / 1000} s after the server`);
  assert.ok(longestIdle < 30_000, `the worker sat idle for ${longestIdle / 1000} s: Chrome would have stopped it`);
});

function createSignalingForOutage(t, active) {
  // Real jitter: the bound must hold for any draw, not only the midpoint.
  let seed = 7;
  const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  return createSignaling({
    url: "wss://numfree.com/ws/signaling/",
    tokens: { accessToken: async () => "token" },
    deviceId: async () => "ext-device-1",
    onFrame: () => {},
    onState: (status) => {
      active();
      t.states.push(status);
    },
    keepAlive: active,
    WebSocketImpl: t.FakeWebSocket,
    timers: t.clock,
    random,
  });
}

test("a server restart (1012) reconnects after a random 0-5 s, not all clients at once", async () => {
  const delays = [];
  for (const draw of [0, 0.25, 0.999]) {
    const t = setup({ random: () => draw });
    const ws = await connected(t);
    ws.serverClose(1012);
    assert.equal(t.signaling.state, "waiting");
    const delay = t.states.at(-1).retryInMs;
    delays.push(delay);
    await t.clock.advance(Math.max(delay - 1, 0));
    assert.equal(t.sockets.length, delay === 0 ? 2 : 1, "no reconnect before its moment");
    await t.clock.advance(1);
    assert.equal(t.sockets.length, 2, "reconnected at its moment, with no user action");
    assert.match(t.states.find((s) => s.code === 1012).message, /restarting/);
  }
  assert.equal(RESTART_SPREAD_MS, 5_000);
  assert.deepEqual(delays, [0, 1250, 4995]);
});

test("a restart is not a failure: the wait after 1012 does not grow, however often it happens", async () => {
  const t = setup({ random: () => 0.5 });
  for (let i = 0; i < 5; i++) {
    const ws = i === 0 ? await connected(t) : t.sockets.at(-1);
    if (i > 0) {
      ws.open();
      ws.receive({ type: "auth.ok", email: "a" });
    }
    ws.serverClose(1012);
    assert.equal(t.states.at(-1).retryInMs, 2500);
    await t.clock.advance(2500);
  }
  assert.equal(t.sockets.length, 6);
});

test("service unavailable (4503, the server's Redis is down) retries within 5 s, and the wait does not grow", async () => {
  const t = setup({ random: () => 0.5 });
  for (let i = 0; i < 4; i++) {
    const ws = i === 0 ? await connected(t) : t.sockets.at(-1);
    if (i > 0) ws.open();
    ws.serverClose(4503);
    assert.equal(t.signaling.state, "waiting");
    assert.equal(t.states.at(-1).retryInMs, 2500);
    assert.match(t.states.at(-1).message, /briefly unavailable/);
    await t.clock.advance(2500);
    assert.equal(t.sockets.length, i + 2, "reconnected by itself");
  }
  assert.equal(closePolicy(4503).action, "spread");
});

test("with real randomness, a thousand clients told 1012 spread over the whole 0-5 s window", async () => {
  const delays = [];
  for (let i = 0; i < 1000; i++) {
    const t = setup({ random: Math.random });
    const ws = await connected(t);
    ws.serverClose(1012);
    delays.push(t.states.at(-1).retryInMs);
  }
  assert.ok(Math.min(...delays) >= 0 && Math.max(...delays) <= RESTART_SPREAD_MS);
  const perSecond = [0, 1, 2, 3, 4].map((s) => delays.filter((d) => d >= s * 1000 && d < (s + 1) * 1000).length);
  for (const count of perSecond) assert.ok(count > 120 && count < 280, `about 200 per second: ${perSecond}`);
});

test("a handshake the server refuses for this extension's origin stops with the reason, not 'Reconnecting' forever", async () => {
  const asked = [];
  const t = setup({
    explainRefusal: async () => {
      asked.push(true);
      return { code: "origin_not_allowed", message: "The NumFree server at numfree.com does not accept this copy…" };
    },
  });
  await t.signaling.start();
  t.sockets[0].serverClose(1006); // what a browser reports for an HTTP 403 to the handshake
  await settle();
  assert.equal(asked.length, 1);
  assert.equal(t.signaling.state, "stopped");
  assert.equal(t.states.at(-1).code, "origin_not_allowed");
  assert.match(t.states.at(-1).message, /does not accept this copy/);
  await t.clock.advance(10 * MAX_DELAY_MS);
  assert.equal(t.sockets.length, 1, "no retry until the user asks");
  await t.signaling.restart();
  assert.equal(t.sockets.length, 2, "the Reconnect button tries again");
});

test("a failed handshake the server does not explain (it is down) is an ordinary retry", async () => {
  const t = setup({ explainRefusal: async () => null });
  await t.signaling.start();
  t.sockets[0].serverClose(1006);
  await settle();
  assert.equal(t.signaling.state, "waiting");
  await t.clock.advance(t.states.at(-1).retryInMs);
  assert.equal(t.sockets.length, 2);
  const failing = setup({
    explainRefusal: async () => {
      throw new Error("unreachable");
    },
  });
  await failing.signaling.start();
  failing.sockets[0].serverClose(1006);
  await settle();
  assert.equal(failing.signaling.state, "waiting");
});

test("a socket that had opened and then drops is not a refusal: nobody asks the origin check", async () => {
  const asked = [];
  const t = setup({ explainRefusal: async () => asked.push(true) && null });
  const ws = await connected(t);
  ws.serverClose(1006);
  await settle();
  assert.equal(asked.length, 0);
  assert.equal(t.signaling.state, "waiting");
});
