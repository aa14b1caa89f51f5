/** Sign-in tokens: kept in chrome.storage.local, refreshed before they expire by one request
 * at a time across the whole extension (a shared lock plus a per-context in-flight promise). */

import { SERVER_URL } from "../config.js";
import { clearAccountData } from "./device.js";
import { ApiProblem, friendlyMessage, requestJson } from "./http.js";
import { sharedLock } from "./locks.js";

export const AUTH_KEY = "auth";
export const NOTICE_KEY = "notice";
const REFRESH_LOCK = "numfree-token-refresh";
const REFRESH_MARGIN_MS = 60_000;
const RACE_WAIT_MS = 10_000;
const RACE_POLL_MS = 200;
/** Answers to a refresh that mean this sign-in is over: sign out and say why. */
const SIGN_IN_OVER = new Set(["token_revoked", "token_invalid", "token_expired", "account_disabled"]);

/** The expiry of a JWT in milliseconds since the epoch (0 if unreadable). */
export function jwtExpiryMs(token) {
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const claims = JSON.parse(atob(payload.padEnd(payload.length + ((4 - (payload.length % 4)) % 4), "=")));
    return typeof claims.exp === "number" ? claims.exp * 1000 : 0;
  } catch {
    return 0;
  }
}

export function createTokenStore({
  storage,
  serverUrl = SERVER_URL,
  fetchImpl = (...args) => globalThis.fetch(...args),
  withLock = sharedLock(),
  now = () => Date.now(),
  sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  onSignedOut = () => {},
} = {}) {
  let inFlight = null;

  async function read() {
    return (await storage.get(AUTH_KEY))[AUTH_KEY] || null;
  }

  /** `otp` (the authenticator's code or a recovery code) only once the server asked for it
   * (`two_factor_required`); accounts without two-factor sign-in never see the question. */
  async function signIn(email, password, otp = "") {
    const body = otp ? { email, password, otp } : { email, password };
    const tokens = await requestJson(`${serverUrl}/api/auth/token/`, { method: "POST", body, fetchImpl });
    const auth = { email: email.trim().toLowerCase(), access: tokens.access, refresh: tokens.refresh };
    await storage.remove(NOTICE_KEY);
    await storage.set({ [AUTH_KEY]: auth });
    return auth;
  }

  /** A valid access token, refreshed first when it expires within a minute (or when forced). */
  async function accessToken({ forceRefresh = false } = {}) {
    const auth = await read();
    if (!auth) throw new ApiProblem("not_signed_in", friendlyMessage({ code: "not_signed_in" }));
    if (!forceRefresh && jwtExpiryMs(auth.access) - now() > REFRESH_MARGIN_MS) return auth.access;
    return (await refresh(auth.refresh)).access;
  }

  /** One refresh at a time: callers in this context share a promise, other contexts wait on the lock. */
  function refresh(staleRefresh) {
    if (!inFlight) {
      inFlight = withLock(REFRESH_LOCK, () => refreshUnderLock(staleRefresh)).finally(() => {
        inFlight = null;
      });
    }
    return inFlight;
  }

  async function refreshUnderLock(staleRefresh) {
    const auth = await read();
    if (!auth) throw new ApiProblem("not_signed_in", friendlyMessage({ code: "not_signed_in" }));
    // Another part of the extension refreshed while this one waited for the lock.
    if (auth.refresh !== staleRefresh) return auth;
    let tokens;
    try {
      tokens = await requestJson(`${serverUrl}/api/auth/token/refresh/`, {
        method: "POST",
        body: { refresh: auth.refresh },
        fetchImpl,
      });
    } catch (problem) {
      if (problem.code === "refresh_race") return waitForOtherRefresh(auth.refresh);
      if (SIGN_IN_OVER.has(problem.code)) await signOutLocally(problem);
      throw problem;
    }
    const next = { ...auth, access: tokens.access, refresh: tokens.refresh };
    await storage.set({ [AUTH_KEY]: next });
    return next;
  }

  /** refresh_race: another request used this refresh token; its tokens land in storage shortly. */
  async function waitForOtherRefresh(usedRefresh) {
    const deadline = now() + RACE_WAIT_MS;
    while (now() < deadline) {
      await sleep(RACE_POLL_MS);
      const auth = await read();
      if (!auth) throw new ApiProblem("not_signed_in", friendlyMessage({ code: "not_signed_in" }));
      if (auth.refresh !== usedRefresh) return auth;
    }
    // Still signed in: a later attempt will try again. A race is never a reason to sign out.
    throw new ApiProblem("refresh_race", "Your sign-in is being renewed; try again in a moment.", { status: 409 });
  }

  async function signOutLocally(problem) {
    await clearAccountData(storage);
    const message =
      problem.code === "account_disabled"
        ? friendlyMessage(problem)
        : problem.code === "token_revoked"
          ? friendlyMessage(problem)
          : "Your sign-in has expired. Sign in again.";
    await storage.set({ [NOTICE_KEY]: { code: problem.code, message } });
    await onSignedOut(problem);
  }

  /** Ends the sign-in at NumFree (best effort) and clears local storage. */
  async function signOut() {
    const auth = await read();
    if (auth) {
      try {
        await requestJson(`${serverUrl}/api/auth/logout/`, {
          method: "POST",
          body: { refresh: auth.refresh },
          token: auth.access,
          fetchImpl,
        });
      } catch {
        // Offline or already revoked: the local sign-out below still happens.
      }
    }
    await clearAccountData(storage);
    await onSignedOut(null);
  }

  return { read, signIn, accessToken, refresh, signOut, signOutLocally };
}
