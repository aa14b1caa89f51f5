import assert from "node:assert/strict";
import { test } from "node:test";

import { REQUEST_TIMEOUT_MS, requestJson } from "../lib/http.js";
import { fakeClock, settle } from "./fakes.js";

test("a server that never answers is a timeout after the deadline, and the request is aborted", async () => {
  const clock = fakeClock();
  let signal = null;
  const hanging = (url, init) => {
    signal = init.signal;
    return new Promise(() => {});
  };
  const outcome = requestJson("https://numfree.com/api/me/", { fetchImpl: hanging, timers: clock }).catch((problem) => problem);
  await settle();
  await clock.advance(REQUEST_TIMEOUT_MS - 1);
  assert.equal(signal.aborted, false);
  await clock.advance(1);
  const problem = await outcome;
  assert.equal(problem.code, "server_timeout");
  assert.match(problem.message, /did not answer in time/);
  assert.equal(signal.aborted, true);
});

test("an answer whose body never arrives is a timeout too", async () => {
  const clock = fakeClock();
  const headersOnly = async () => ({ ok: true, status: 200, headers: { get: () => null }, json: () => new Promise(() => {}) });
  const outcome = requestJson("https://numfree.com/api/me/", { fetchImpl: headersOnly, timers: clock }).catch((problem) => problem);
  await settle();
  await clock.advance(REQUEST_TIMEOUT_MS);
  assert.equal((await outcome).code, "server_timeout");
});

test("a prompt answer clears its deadline", async () => {
  const clock = fakeClock();
  const quick = async () => ({ ok: true, status: 200, headers: { get: () => null }, json: async () => ({ email: "a" }) });
  assert.deepEqual(await requestJson("https://numfree.com/api/me/", { fetchImpl: quick, timers: clock }), { email: "a" });
  assert.deepEqual(clock.pending(), []);
});

test("a refused connection is still server_unreachable", async () => {
  const refused = async () => {
    throw new TypeError("Failed to fetch");
  };
  await assert.rejects(requestJson("https://numfree.com/api/me/", { fetchImpl: refused }), { code: "server_unreachable" });
});

test("the origin check turns origin_not_allowed into a reason naming this extension's id, anything else into none", async () => {
  const { originRefusal } = await import("../lib/api.js");
  const { fakeFetch } = await import("./fakes.js");
  const refused = fakeFetch({
    "POST /api/signaling/origin-check/": () => ({ status: 403, body: { code: "origin_not_allowed", message: "x" } }),
  });
  const reason = await originRefusal({ serverUrl: "https://numfree.com", extensionId: "abcdefghijklmnopabcdefghijklmnop", fetchImpl: refused.fetchImpl });
  assert.equal(reason.code, "origin_not_allowed");
  assert.match(reason.message, /numfree\.com does not accept this copy of NumFree Caller \(extension id abcdefghijklmnopabcdefghijklmnop\)/);
  assert.match(reason.message, /NUMFREE_EXTENSION_IDS/);
  assert.equal(refused.calls[0].key, "POST /api/signaling/origin-check/");
  const allowed = fakeFetch({ "POST /api/signaling/origin-check/": () => ({ body: { origin: "x", allowed: true } }) });
  assert.equal(await originRefusal({ serverUrl: "https://numfree.com", extensionId: "x", fetchImpl: allowed.fetchImpl }), null);
  const down = fakeFetch({});
  assert.equal(await originRefusal({ serverUrl: "https://numfree.com", extensionId: "x", fetchImpl: down.fetchImpl }), null);
});
