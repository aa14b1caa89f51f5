/** The signaling WebSocket: first-frame auth, ping every 20 s, reconnect with backoff,
 * and the close-code rules of the protocol (no reconnect after 4403/4408/4409, one
 * refresh-and-retry after 4401). One connection attempt at a time; every step has a deadline,
 * so "connecting" always ends (in "open" or in a scheduled retry); a socket that is no longer
 * the current one is ignored. While a reconnect is pending, `keepAlive` runs every 20 s: in the
 * service worker it is a cheap extension API call, which keeps Chrome from stopping the worker
 * (and its retry timer) during a long outage. */

import { closePolicy, reconnectDelay } from "./backoff.js";

export const PING_INTERVAL_MS = 20_000;
/** From creating the socket to auth.ok: a server that accepts TCP and then hangs is a failed attempt. */
export const AUTH_TIMEOUT_MS = 10_000;
/** Getting a token (which may need a refresh over the network) before the socket is opened. */
export const TOKEN_TIMEOUT_MS = 20_000;
/** Below Chrome's 30 s idle limit for extension service workers. */
export const KEEPALIVE_INTERVAL_MS = 20_000;

class StepTimeout extends Error {
  constructor(message) {
    super(message);
    this.code = "server_unreachable";
  }
}

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
  keepAlive = () => {},
  explainRefusal = async () => null,
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
  let keepAliveTimer = null;
  let awaitingPong = false;
  let frameCounter = 0;
  let inFlight = null; // the one connection attempt (token + socket creation), if any
  let generation = 0; // bumped by stop(): an attempt from before it gives up

  function setState(next, extra = {}) {
    state = next;
    onState({ state: next, ...extra });
    const pending = next === "connecting" || next === "refreshing" || next === "waiting";
    if (pending && !keepAliveTimer) keepAliveTimer = timers.setInterval(() => keepAlive(), KEEPALIVE_INTERVAL_MS);
    if (!pending && keepAliveTimer) {
      timers.clearInterval(keepAliveTimer);
      keepAliveTimer = null;
    }
  }

  function clearTimers() {
    for (const timer of [reconnectTimer, authTimer]) if (timer) timers.clearTimeout(timer);
    if (pingTimer) timers.clearInterval(pingTimer);
    reconnectTimer = pingTimer = authTimer = null;
  }

  function withDeadline(promise, ms, what) {
    let timer;
    const deadline = new Promise((_, reject) => {
      timer = timers.setTimeout(() => reject(new StepTimeout(`${what} took too long`)), ms);
    });
    return Promise.race([promise, deadline]).finally(() => timers.clearTimeout(timer));
  }

  /** Connects unless a socket is open or an attempt is already on its way (then returns it). */
  function start() {
    if (socket) return Promise.resolve();
    if (!inFlight) {
      const attemptPromise = connect().finally(() => {
        if (inFlight === attemptPromise) inFlight = null;
      });
      inFlight = attemptPromise;
    }
    return inFlight;
  }

  async function connect() {
    if (reconnectTimer) {
      timers.clearTimeout(reconnectTimer);
      reconnectTimer = null;
    }
    const mine = generation;
    setState("connecting");
    let token;
    let device;
    try {
      token = await withDeadline(tokens.accessToken(), TOKEN_TIMEOUT_MS, "Signing in");
      device = await deviceId();
    } catch (problem) {
      if (mine !== generation) return;
      if (problem.code === "not_signed_in" || problem.code === "token_revoked") {
        setState("signed_out");
        return;
      }
      scheduleReconnect({ message: problem.message });
      return;
    }
    if (mine !== generation || state !== "connecting") return; // stopped while waiting for the token
    const ws = new WebSocketImpl(url);
    socket = ws;
    // Until auth.ok: covers a handshake that never completes as well as a silent server.
    authTimer = timers.setTimeout(() => ws === socket && ws.close(4000, "auth timeout"), AUTH_TIMEOUT_MS);
    let handshakeDone = false;
    ws.onopen = () => {
      handshakeDone = true;
      if (ws !== socket) return; // a socket replaced or stopped meanwhile: it never authenticates
      ws.send(JSON.stringify({ type: "auth", token, device_id: device, id: "auth" }));
    };
    ws.onmessage = (event) => receive(ws, event.data);
    // 1006 before opening: the server may have refused the handshake (403), which a browser hides.
    ws.onclose = (event) => closed(ws, event.code, { beforeOpen: !handshakeDone && event.code === 1006 });
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

  async function closed(ws, code, { beforeOpen = false } = {}) {
    if (ws !== socket) return;
    socket = null;
    clearTimers();
    if (state === "stopped" || state === "signed_out") return;
    if (beforeOpen && (await refusedForGood())) return;
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
      const mine = generation;
      try {
        await withDeadline(tokens.accessToken({ forceRefresh: true }), TOKEN_TIMEOUT_MS, "Renewing the sign-in");
      } catch (problem) {
        if (mine !== generation) return;
        if (problem.code === "not_signed_in" || problem.code === "token_revoked") {
          setState("signed_out");
          return;
        }
        scheduleReconnect({ code, message: problem.message });
        return;
      }
      if (mine !== generation) return;
      state = "idle";
      await start();
      return;
    }
    if (policy.action === "spread") {
      // Not a failure of ours: no backoff step, just a random moment in the window.
      scheduleReconnect({ code, message: policy.message, delayMs: Math.round(random() * policy.maxDelayMs) });
      return;
    }
    scheduleReconnect({ code, minDelayMs: policy.minDelayMs, message: policy.message });
  }

  /** Asks the server why a handshake failed; a refused origin stops until the user asks again
   * (retrying cannot help until the deployment lists this extension). */
  async function refusedForGood() {
    const mine = generation;
    let reason = null;
    try {
      reason = await explainRefusal();
    } catch {
      reason = null; // the server is down, not refusing: the usual backoff
    }
    if (mine !== generation || socket || inFlight) return true; // stopped or restarted meanwhile
    if (!reason) return false;
    setState("stopped", { code: reason.code, message: reason.message });
    return true;
  }

  function scheduleReconnect({ code, minDelayMs = 0, message, delayMs } = {}) {
    let delay = delayMs;
    if (delay === undefined) {
      delay = Math.max(minDelayMs, reconnectDelay(attempt, { random }));
      attempt += 1;
    }
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
    generation += 1;
    inFlight = null; // the attempt under way sees the new generation and gives up
    clearTimers();
    const ws = socket;
    socket = null;
    setState(finalState, message ? { message } : {});
    if (ws) ws.close(1000, "bye");
  }

  /** The user asked to reconnect: forget a previous stop and the backoff. */
  function restart() {
    if (socket) return Promise.resolve();
    if (inFlight) return inFlight;
    clearTimers();
    attempt = 0;
    retriedAuth = false;
    state = "idle";
    return start();
  }

  /** Someone is looking (the popup opened): a pending retry happens now instead of after its delay. */
  function retryNow() {
    if (state !== "waiting") return inFlight || Promise.resolve();
    state = "idle";
    return start();
  }

  return {
    start,
    stop,
    restart,
    retryNow,
    send,
    get state() {
      return state;
    },
    get attempt() {
      return attempt;
    },
  };
}
