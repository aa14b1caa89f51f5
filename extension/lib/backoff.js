/** Reconnect delays: exponential with jitter, so many clients do not return at the same instant. */

export const BASE_DELAY_MS = 1_000;
/** Below the 30 s after which Chrome stops an idle extension service worker (with its timers). */
export const MAX_DELAY_MS = 20_000;

/** After a 1012 (server restarting) or 4503 (retry soon) the reconnect waits a random time up to this. */
export const RESTART_SPREAD_MS = 5_000;

/** Delay before reconnect attempt number `attempt` (0 for the first): between half and all of
 * min(MAX, BASE * 2^attempt). */
export function reconnectDelay(attempt, { random = Math.random, baseMs = BASE_DELAY_MS, maxMs = MAX_DELAY_MS } = {}) {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** What to do when the signaling socket closes with this code (DESIGN: close codes). */
export function closePolicy(code) {
  switch (code) {
    case 4401:
      return { action: "refresh-and-retry" };
    case 4403:
      return { action: "stop", message: "This NumFree account is disabled." };
    case 4408:
      return { action: "stop", message: "Signaling moved to a newer connection of this browser." };
    case 4409:
      return { action: "stop", message: "Too many devices are connected to this account (at most 5). Close one, then reconnect." };
    case 1012:
      // The server is restarting (a deploy): every client hears this at once, so each waits a
      // random 0-5 s instead of all reconnecting in the same instant.
      return { action: "spread", maxDelayMs: RESTART_SPREAD_MS, message: "NumFree is restarting; reconnecting in a moment." };
    case 4503:
      // Service unavailable, retry soon (the server's Redis is down): a blip on the server's side,
      // so no backoff step; a random moment in the same 0-5 s window spreads the clients out.
      return { action: "spread", maxDelayMs: RESTART_SPREAD_MS, message: "NumFree is briefly unavailable; reconnecting in a moment." };
    case 4429:
      return { action: "backoff", minDelayMs: 10_000, message: "Too many connection attempts; retrying shortly." };
    default:
      return { action: "backoff" };
  }
}
