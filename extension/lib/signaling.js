/** The signaling WebSocket: first-frame auth, ping every 20 s, reconnect with backoff,
 * and the close-code rules of the protocol (no reconnect after 4403/4408/4409, one
 * refresh-and-retry after 4401). */

import { closePolicy, reconnectDelay } from "./backoff.js";

export const PING_INTERVAL_MS = 20_000;
export const AUTH_TIMEOUT_MS = 10_000;

/**
 * onState({state, message?, code?}) is told every change; the caller persists it, so a
 * restarted service worker knows whether it may reconnect ("stopped" means: wait for the user).
 */
export function createSignaling({
  url,
  tokens,
  deviceId,
  onFrame,
  onState = () => {},
  WebSocketImpl = globalThis.WebSocket,
  timers = globalThis,
  random = Math.random,
}) {
  let socket = null;
  let state = "idle";
  let attempt = 0;
  let retriedAuth = false;
  let reconnectTimer = null;
  let pingTimer = null;
  let authTimer = null;
  let awaitingPong = false;
  let frameCounter = 0;

  function setState(next, extra = {}) {
    state = next;
    onState({ state: next, ...extra });
  }

  function clearTimers() {
    for (const timer of [reconnectTimer, authTimer]) if (timer) timers.clearTimeout(timer);
    if (pingTimer) timers.clearInterval(pingTimer);
    reconnectTimer = pingTimer = authTimer = null;
  }

  /** Connects unless a socket is already open or on its way. */
  async function start() {
    if (socket || state === "connecting") return;
    if (reconnectTimer) {
      timers.clearTimeout(reconnectTimer);
      reconnectTimer = null;
    }
    setState("connecting");
    let token;
    let device;
    try {
      token = await tokens.accessToken();
      device = await deviceId();
    } catch (problem) {
      if (problem.code === "not_signed_in" || problem.code === "token_revoked") {
        setState("signed_out");
        return;
      }
      scheduleReconnect({ message: problem.message });
      return;
    }
    if (state !== "connecting") return; // stopped while waiting for the token
    const ws = new WebSocketImpl(url);
    socket = ws;
    ws.onopen = () => {
      ws.send(JSON.stringify({ type: "auth", token, device_id: device, id: "auth" }));
      authTimer = timers.setTimeout(() => ws.close(4000, "auth timeout"), AUTH_TIMEOUT_MS);
    };
    ws.onmessage = (event) => receive(ws, event.data);
    ws.onclose = (event) => closed(ws, event.code);
    ws.onerror = () => {};
  }

  function receive(ws, data) {
    if (ws !== socket) return;
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    if (frame.type === "auth.ok") {
      if (authTimer) timers.clearTimeout(authTimer);
      authTimer = null;
      attempt = 0;
      retriedAuth = false;
      awaitingPong = false;
      pingTimer = timers.setInterval(ping, PING_INTERVAL_MS);
      setState("open", { email: frame.email });
    } else if (frame.type === "pong") {
      awaitingPong = false;
      return;
    }
    onFrame(frame);
  }

  function ping() {
    if (!socket || state !== "open") return;
    if (awaitingPong) {
      // No answer to the previous ping in 20 s: the connection is dead even if TCP has not noticed.
      socket.close(4000, "no pong");
      return;
    }
    awaitingPong = true;
    socket.send(JSON.stringify({ type: "ping", id: `ping-${++frameCounter}` }));
  }

  async function closed(ws, code) {
    if (ws !== socket) return;
    socket = null;
    clearTimers();
    if (state === "stopped" || state === "signed_out") return;
    const policy = closePolicy(code);
    if (policy.action === "stop") {
      setState("stopped", { code, message: policy.message });
      return;
    }
    if (policy.action === "refresh-and-retry") {
      if (retriedAuth) {
        setState("stopped", { code, message: "NumFree did not accept this sign-in. Sign out and sign in again." });
        return;
      }
      retriedAuth = true;
      setState("refreshing");
      try {
        await tokens.accessToken({ forceRefresh: true });
      } catch (problem) {
        if (problem.code === "not_signed_in" || problem.code === "token_revoked") {
          setState("signed_out");
          return;
        }
        scheduleReconnect({ code, message: problem.message });
        return;
      }
      state = "idle";
      await start();
      return;
    }
    scheduleReconnect({ code, minDelayMs: policy.minDelayMs, message: policy.message });
  }

  function scheduleReconnect({ code, minDelayMs = 0, message } = {}) {
    const delay = Math.max(minDelayMs, reconnectDelay(attempt, { random }));
    attempt += 1;
    setState("waiting", { code, message: message || "Reconnecting to NumFree…", retryInMs: delay });
    reconnectTimer = timers.setTimeout(() => {
      reconnectTimer = null;
      state = "idle";
      start();
    }, delay);
  }

  /** Sends a frame if the socket is authenticated; returns whether it was sent. */
  function send(frame) {
    if (!socket || state !== "open") return false;
    socket.send(JSON.stringify(frame));
    return true;
  }

  /** Closes for good (sign-out) or until the user asks again. */
  function stop(finalState = "stopped", message) {
    clearTimers();
    const ws = socket;
    socket = null;
    setState(finalState, message ? { message } : {});
    if (ws) ws.close(1000, "bye");
  }

  /** The user asked to reconnect: forget a previous stop and the backoff. */
  function restart() {
    if (socket) return;
    clearTimers();
    attempt = 0;
    retriedAuth = false;
    state = "idle";
    return start();
  }

  return {
    start,
    stop,
    restart,
    send,
    get state() {
      return state;
    },
    get attempt() {
      return attempt;
    },
  };
}
