/** Small fakes for the unit tests: chrome.storage areas, notifications, ports, a clock,
 * a WebSocket and fetch. */

export function storageArea() {
  let data = {};
  const listeners = [];
  const copy = (value) => (value === undefined ? undefined : structuredClone(value));
  function changed(changes) {
    for (const listener of listeners) listener(changes);
  }
  return {
    async get(keys) {
      if (keys === null || keys === undefined) return copy(data);
      const list = Array.isArray(keys) ? keys : [keys];
      const out = {};
      for (const key of list) if (key in data) out[key] = copy(data[key]);
      return out;
    },
    async set(items) {
      const changes = {};
      for (const [key, value] of Object.entries(items)) {
        changes[key] = { oldValue: data[key], newValue: copy(value) };
        data[key] = copy(value);
      }
      changed(changes);
    },
    async remove(keys) {
      const changes = {};
      for (const key of Array.isArray(keys) ? keys : [keys]) {
        if (key in data) changes[key] = { oldValue: data[key] };
        delete data[key];
      }
      changed(changes);
    },
    async clear() {
      const changes = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, { oldValue: v }]));
      data = {};
      changed(changes);
    },
    onChanged: { addListener: (fn) => listeners.push(fn) },
    dump: () => copy(data),
  };
}

export function fakeNotifications() {
  const shown = new Map();
  const created = [];
  return {
    async create(id, options) {
      created.push(id);
      shown.set(id, options);
      return id;
    },
    async clear(id) {
      return shown.delete(id);
    },
    shown,
    created,
  };
}

/** A port pair like chrome.runtime.connect gives: what one side posts, the other receives. */
export function portPair() {
  const make = () => ({ messageListeners: [], disconnectListeners: [], peer: null, received: [] });
  const a = make();
  const b = make();
  a.peer = b;
  b.peer = a;
  const api = (side) => ({
    postMessage(message) {
      side.peer.received.push(message);
      for (const fn of side.peer.messageListeners) fn(structuredClone(message));
    },
    onMessage: { addListener: (fn) => side.messageListeners.push(fn) },
    onDisconnect: { addListener: (fn) => side.disconnectListeners.push(fn) },
    disconnect() {
      for (const fn of side.peer.disconnectListeners) fn();
    },
    received: side.received,
  });
  return [api(a), api(b)];
}

/** A manual clock: timers fire only when the test advances time. */
export function fakeClock(start = 1_700_000_000_000) {
  let now = start;
  let nextId = 1;
  const timers = new Map();
  return {
    now: () => now,
    setTimeout(fn, ms) {
      const id = nextId++;
      timers.set(id, { fn, at: now + ms, every: null });
      return id;
    },
    clearTimeout(id) {
      timers.delete(id);
    },
    setInterval(fn, ms) {
      const id = nextId++;
      timers.set(id, { fn, at: now + ms, every: ms });
      return id;
    },
    clearInterval(id) {
      timers.delete(id);
    },
    pending: () => [...timers.values()].map((t) => t.at - now).sort((x, y) => x - y),
    async advance(ms) {
      const until = now + ms;
      for (;;) {
        const due = [...timers.entries()].filter(([, t]) => t.at <= until).sort((x, y) => x[1].at - y[1].at)[0];
        if (!due) break;
        const [id, timer] = due;
        now = timer.at;
        if (timer.every) timer.at += timer.every;
        else timers.delete(id);
        timer.fn();
        await settle();
      }
      now = until;
      await settle();
    },
  };
}

/** Lets pending promise callbacks run. */
export async function settle() {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** A WebSocket class whose instances the test drives. */
export function fakeWebSocketClass() {
  const sockets = [];
  class FakeWebSocket {
    constructor(url) {
      this.url = url;
      this.sent = [];
      this.closed = null;
      sockets.push(this);
    }
    send(data) {
      this.sent.push(JSON.parse(data));
    }
    close(code = 1000) {
      if (this.closed) return;
      this.closed = code;
      queueMicrotask(() => this.onclose?.({ code }));
    }
    // test side
    open() {
      this.onopen?.();
    }
    receive(frame) {
      this.onmessage?.({ data: JSON.stringify(frame) });
    }
    serverClose(code) {
      this.closed = code;
      this.onclose?.({ code });
    }
  }
  return { FakeWebSocket, sockets };
}

export function jwt(expSeconds, extra = {}) {
  const b64 = (obj) => Buffer.from(JSON.stringify(obj)).toString("base64url");
  return `${b64({ alg: "HS256" })}.${b64({ exp: expSeconds, ...extra })}.sig`;
}

/** fetch that answers from a list of handlers keyed by "METHOD path". */
export function fakeFetch(routes) {
  const calls = [];
  async function fetchImpl(url, init = {}) {
    const path = new URL(url).pathname;
    const key = `${init.method || "GET"} ${path}`;
    calls.push({ key, body: init.body ? JSON.parse(init.body) : undefined, headers: init.headers });
    const handler = routes[key];
    if (!handler) throw new TypeError("Failed to fetch");
    const { status = 200, body = {}, headers = {} } = await handler(calls.at(-1));
    return {
      ok: status >= 200 && status < 300,
      status,
      headers: { get: (name) => headers[name] ?? null },
      json: async () => body,
    };
  }
  return { fetchImpl, calls };
}
