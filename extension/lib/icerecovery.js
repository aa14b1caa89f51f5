/** Getting a call's media path back: Chrome reports a lost path as `disconnected` and may stay
 * there until the call is lost (it reaches `failed` only after about 30 s), so the caller
 * restarts ICE after a short grace on `disconnected` (at once on `failed`), retries with a
 * growing wait while the path is still down, and forgets the count once connected. One side
 * restarts (the caller), so the two never offer at once. After RECOVERY_TIMEOUT_MS without a
 * path the call ends (`ice_failed`). */

/** A blip shorter than this heals by itself (consent checks resume); longer, new candidates help. */
export const DISCONNECTED_GRACE_MS = 2_000;
/** Wait after restart number n (1-based) before the next: 2 s, 4 s, 8 s, 8 s... */
export const RESTART_WAIT_MS = [2_000, 4_000, 8_000];
export const MAX_ICE_RESTARTS = 6;
export const RECOVERY_TIMEOUT_MS = 30_000;

export function createIceRecovery({ canRestart, restart, giveUp, timers = globalThis, now = () => Date.now() }) {
  let restarts = 0;
  let restartTimer = null;
  let giveUpTimer = null;
  let lostAt = null;
  const log = []; // [ms since the path was lost, what happened] for the call window's diagnostics

  function clearRestartTimer() {
    if (restartTimer) timers.clearTimeout(restartTimer);
    restartTimer = null;
  }

  function scheduleRestart(delayMs) {
    clearRestartTimer();
    restartTimer = timers.setTimeout(restartNow, delayMs);
  }

  function restartNow() {
    restartTimer = null;
    if (lostAt === null || !canRestart() || restarts >= MAX_ICE_RESTARTS) return;
    restarts += 1;
    log.push([now() - lostAt, `restart ${restarts}`]);
    restart();
    // Still no path after the wait: new candidates again (the network may have come back meanwhile).
    scheduleRestart(RESTART_WAIT_MS[Math.min(restarts, RESTART_WAIT_MS.length) - 1]);
  }

  /** Call with every pc.connectionState change. */
  function onConnectionState(state) {
    if (state === "connected") {
      if (lostAt !== null) log.push([now() - lostAt, "connected"]);
      lostAt = null;
      restarts = 0;
      clearRestartTimer();
      if (giveUpTimer) timers.clearTimeout(giveUpTimer);
      giveUpTimer = null;
      return;
    }
    if (state !== "disconnected" && state !== "failed") return;
    if (lostAt === null) {
      lostAt = now();
      log.push([0, state]);
      giveUpTimer = timers.setTimeout(() => giveUp(), RECOVERY_TIMEOUT_MS);
    }
    if (state === "failed") {
      if (!restartTimer || restarts === 0) restartNow(); // failed is final for this ICE session
    } else if (!restartTimer) {
      scheduleRestart(DISCONNECTED_GRACE_MS);
    }
  }

  function stop() {
    clearRestartTimer();
    if (giveUpTimer) timers.clearTimeout(giveUpTimer);
    giveUpTimer = null;
  }

  return {
    onConnectionState,
    stop,
    get restarts() {
      return restarts;
    },
    get log() {
      return log.slice();
    },
  };
}
