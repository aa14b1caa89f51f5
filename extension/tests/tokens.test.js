import assert from "node:assert/strict";
import { test } from "node:test";

import { createApi } from "../lib/api.js";
import { friendlyMessage } from "../lib/http.js";
import { processLock } from "../lib/locks.js";
import { createTokenStore } from "../lib/tokens.js";
import { fakeFetch, jwt, storageArea } from "./fakes.js";

const SERVER = "https://numfree.com";
const NOW = 1_700_000_000_000;

function signedIn(storage, { accessExp = NOW / 1000 + 3600, refresh = "r1" } = {}) {
  return storage.set({ auth: { email: "alice@example.com", access: jwt(accessExp), refresh }, device_id: "ext-device-1" });
}

function store(storage, fetchImpl, extra = {}) {
  return createTokenStore({ storage, serverUrl: SERVER, fetchImpl, now: () => NOW, sleep: async () => {}, ...extra });
}

test("sign-in keeps both tokens and the email in local storage", async () => {
  const local = storageArea();
  const { fetchImpl, calls } = fakeFetch({
    "POST /api/auth/token/": () => ({ body: { access: jwt(NOW / 1000 + 300), refresh: "r1" } }),
  });
  await store(local, fetchImpl).signIn("Alice@Example.com ", "pw");
  assert.deepEqual(calls[0].body, { email: "Alice@Example.com ", password: "pw" });
  assert.equal(local.dump().auth.refresh, "r1");
  assert.equal(local.dump().auth.email, "alice@example.com");
});

test("sign-in errors read as what went wrong", async () => {
  const cases = {
    invalid_credentials: [401, /Wrong email or password/],
    email_unverified: [403, /Confirm your email/],
    rate_limited: [429, /Try again in 30 s/],
  };
  for (const [code, [status, pattern]] of Object.entries(cases)) {
    const { fetchImpl } = fakeFetch({
      "POST /api/auth/token/": () => ({ status, body: { code, message: "x" }, headers: { "Retry-After": "30" } }),
    });
    await assert.rejects(store(storageArea(), fetchImpl).signIn("a@b.c", "pw"), (problem) => {
      assert.equal(problem.code, code);
      assert.match(friendlyMessage(problem), pattern);
      return true;
    });
  }
  const { fetchImpl } = fakeFetch({});
  await assert.rejects(store(storageArea(), fetchImpl).signIn("a@b.c", "pw"), (problem) => {
    assert.equal(problem.code, "server_unreachable");
    assert.match(friendlyMessage(problem), /Can't reach NumFree/);
    return true;
  });
});

test("a fresh access token is used without asking the server", async () => {
  const local = storageArea();
  await signedIn(local);
  const { fetchImpl, calls } = fakeFetch({});
  const token = await store(local, fetchImpl).accessToken();
  assert.equal(token, local.dump().auth.access);
  assert.equal(calls.length, 0);
});

test("a token about to expire is refreshed once for all callers at the same time", async () => {
  const local = storageArea();
  await signedIn(local, { accessExp: NOW / 1000 + 30 });
  let release;
  const gate = new Promise((resolve) => (release = resolve));
  const { fetchImpl, calls } = fakeFetch({
    "POST /api/auth/token/refresh/": async () => {
      await gate;
      return { body: { access: jwt(NOW / 1000 + 300, { n: 2 }), refresh: "r2" } };
    },
  });
  const tokens = store(local, fetchImpl);
  const waiting = [tokens.accessToken(), tokens.accessToken(), tokens.accessToken()];
  release();
  const results = await Promise.all(waiting);
  assert.equal(calls.filter((c) => c.key === "POST /api/auth/token/refresh/").length, 1);
  assert.equal(new Set(results).size, 1);
  assert.equal(local.dump().auth.refresh, "r2");
});

test("two parts of the extension (worker and popup) share one refresh through the lock", async () => {
  const local = storageArea();
  await signedIn(local, { accessExp: NOW / 1000 + 30 });
  const { fetchImpl, calls } = fakeFetch({
    "POST /api/auth/token/refresh/": async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return { body: { access: jwt(NOW / 1000 + 300), refresh: "r2" } };
    },
  });
  const lock = processLock(); // stands in for navigator.locks, which spans contexts
  const worker = store(local, fetchImpl, { withLock: lock });
  const popup = store(local, fetchImpl, { withLock: lock });
  const [a, b] = await Promise.all([worker.accessToken(), popup.accessToken()]);
  assert.equal(a, b);
  assert.equal(calls.length, 1);
});

test("refresh_race waits for the other refresh's tokens and does not sign out", async () => {
  const local = storageArea();
  await signedIn(local, { accessExp: NOW / 1000 + 30 });
  const { fetchImpl } = fakeFetch({
    "POST /api/auth/token/refresh/": () => ({ status: 409, body: { code: "refresh_race", message: "x" } }),
  });
  let polls = 0;
  const tokens = store(local, fetchImpl, {
    sleep: async () => {
      polls += 1;
      if (polls === 3) await local.set({ auth: { ...local.dump().auth, access: "winner", refresh: "r2" } });
    },
  });
  assert.equal(await tokens.accessToken(), "winner");
  assert.equal(local.dump().auth.refresh, "r2");
});

test("refresh_race with no tokens arriving fails this attempt but stays signed in", async () => {
  const local = storageArea();
  await signedIn(local, { accessExp: NOW / 1000 + 30 });
  const { fetchImpl } = fakeFetch({
    "POST /api/auth/token/refresh/": () => ({ status: 409, body: { code: "refresh_race", message: "x" } }),
  });
  let clock = NOW;
  let signedOut = false;
  const tokens = store(local, fetchImpl, {
    now: () => clock,
    sleep: async (ms) => {
      clock += ms;
    },
    onSignedOut: () => {
      signedOut = true;
    },
  });
  await assert.rejects(tokens.accessToken(), { code: "refresh_race" });
  assert.equal(signedOut, false);
  assert.equal(local.dump().auth.refresh, "r1");
});

test("a revoked sign-in signs out with a clear message and keeps only the device id", async () => {
  const local = storageArea();
  await signedIn(local, { accessExp: NOW / 1000 + 30 });
  const { fetchImpl } = fakeFetch({
    "POST /api/auth/token/refresh/": () => ({ status: 401, body: { code: "token_revoked", message: "x" } }),
  });
  let signedOut = null;
  const tokens = store(local, fetchImpl, { onSignedOut: (problem) => (signedOut = problem.code) });
  await assert.rejects(tokens.accessToken(), { code: "token_revoked" });
  assert.equal(signedOut, "token_revoked");
  const left = local.dump();
  assert.equal(left.auth, undefined);
  assert.equal(left.device_id, "ext-device-1");
  assert.match(left.notice.message, /signed out/i);
});

test("an unreachable server during refresh keeps the sign-in", async () => {
  const local = storageArea();
  await signedIn(local, { accessExp: NOW / 1000 + 30 });
  const { fetchImpl } = fakeFetch({});
  await assert.rejects(store(local, fetchImpl).accessToken(), { code: "server_unreachable" });
  assert.equal(local.dump().auth.refresh, "r1");
});

test("sign-out ends the sign-in at NumFree and clears local storage", async () => {
  const local = storageArea();
  await signedIn(local);
  const { fetchImpl, calls } = fakeFetch({ "POST /api/auth/logout/": () => ({ status: 204 }) });
  await store(local, fetchImpl).signOut();
  assert.deepEqual(calls[0].body, { refresh: "r1" });
  assert.deepEqual(Object.keys(local.dump()), ["device_id"]);
});

test("the API retries once with a refreshed token after token_expired", async () => {
  const local = storageArea();
  await signedIn(local);
  let contactCalls = 0;
  const { fetchImpl, calls } = fakeFetch({
    "GET /api/contacts/": () => {
      contactCalls += 1;
      return contactCalls === 1 ? { status: 401, body: { code: "token_expired", message: "x" } } : { body: [] };
    },
    "POST /api/auth/token/refresh/": () => ({ body: { access: jwt(NOW / 1000 + 300, { n: 2 }), refresh: "r2" } }),
  });
  const api = createApi({ tokens: store(local, fetchImpl), serverUrl: SERVER, fetchImpl });
  assert.deepEqual(await api.contacts(), []);
  assert.equal(calls.length, 3);
  assert.equal(calls[2].headers.Authorization, `Bearer ${local.dump().auth.access}`);
});

test("the API never sends the token to another host", async () => {
  const local = storageArea();
  await signedIn(local);
  const { fetchImpl, calls } = fakeFetch({});
  const api = createApi({ tokens: store(local, fetchImpl), serverUrl: SERVER, fetchImpl });
  await assert.rejects(api.calls("https://evil.example/api/calls/?cursor=x"), { code: "invalid" });
  assert.equal(calls.length, 0);
});

test("two-factor sign-in: no code until the server asks for one, then email, password and code together", async () => {
  const local = storageArea();
  const { fetchImpl, calls } = fakeFetch({
    "POST /api/auth/token/": (request) =>
      !request.body.otp
        ? { status: 401, body: { code: "two_factor_required", message: "x" } }
        : request.body.otp === "123456"
          ? { body: { access: jwt(NOW / 1000 + 300), refresh: "r1" } }
          : { status: 401, body: { code: "two_factor_invalid", message: "x" } },
  });
  const tokens = store(local, fetchImpl);
  await assert.rejects(tokens.signIn("alice@example.com", "pw"), (problem) => {
    assert.equal(problem.code, "two_factor_required");
    assert.match(friendlyMessage(problem), /code from your authenticator app, or one of your recovery codes/);
    return true;
  });
  assert.deepEqual(calls[0].body, { email: "alice@example.com", password: "pw" });
  await assert.rejects(tokens.signIn("alice@example.com", "pw", "000000"), (problem) => {
    assert.equal(problem.code, "two_factor_invalid");
    assert.match(friendlyMessage(problem), /did not work/);
    return true;
  });
  assert.equal(local.dump().auth, undefined);
  await tokens.signIn("alice@example.com", "pw", "123456");
  assert.deepEqual(calls.at(-1).body, { email: "alice@example.com", password: "pw", otp: "123456" });
  assert.equal(local.dump().auth.refresh, "r1");
});
