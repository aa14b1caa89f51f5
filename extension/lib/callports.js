/** The service worker's side of call windows: each window opens a port, says which call it
 * shows, and from then on frames for that call flow through it in both directions. Frames
 * waiting for a window that never comes (a call nobody answered here) are dropped when the
 * call ends, or when they are older than BUFFER_TTL_MS. */

const MAX_BUFFERED = 300;
/** Longer than a call can ring (60 s) plus a window's start-up: older frames have no reader. */
export const BUFFER_TTL_MS = 90_000;
const ENDING = new Set(["call.hangup", "call.answered_elsewhere"]);

export function createCallPorts({ sendFrame, onCallEnded = () => {}, now = () => Date.now() }) {
  const ports = new Map(); // call_id -> port
  const toWindow = new Map(); // call_id -> frames that arrived before the window said hello
  const toServer = new Map(); // call_id -> frames to send once the socket is back
  let counter = 0;

  function attach(port) {
    let callId = null;
    port.onMessage.addListener((message) => {
      if (message?.type === "hello" && typeof message.call_id === "string") {
        callId = message.call_id;
        ports.set(callId, port);
        for (const { frame } of toWindow.get(callId) || []) port.postMessage({ type: "frame", frame });
        toWindow.delete(callId);
      } else if (message?.type === "send" && callId && message.frame?.call_id === callId) {
        send(callId, message.frame);
      }
    });
    port.onDisconnect.addListener(() => {
      if (callId && ports.get(callId) === port) ports.delete(callId);
    });
  }

  function send(callId, frame) {
    const tagged = { ...frame, id: `call:${callId}:${++counter}` };
    if (frame.type === "call.hangup" || frame.type === "call.reject") onCallEnded(callId);
    if (!sendFrame(tagged)) buffer(toServer, callId, tagged);
  }

  function buffer(map, callId, frame) {
    const list = map.get(callId) || [];
    if (list.length < MAX_BUFFERED) list.push({ frame, at: now() });
    map.set(callId, list);
  }

  /** Drops buffers whose first frame is older than the TTL. */
  function prune() {
    for (const map of [toWindow, toServer]) {
      for (const [callId, list] of map) if (now() - list[0].at > BUFFER_TTL_MS) map.delete(callId);
    }
  }

  /** A frame from the server for this call goes to its window (or waits for it). */
  function deliver(callId, frame) {
    prune();
    if (ENDING.has(frame.type)) onCallEnded(callId);
    const port = ports.get(callId);
    if (port) port.postMessage({ type: "frame", frame });
    else if (ENDING.has(frame.type)) toWindow.delete(callId); // no window will ever read them
    else buffer(toWindow, callId, frame);
  }

  /** The socket is authenticated again: send what the windows said meanwhile. */
  function flush() {
    prune();
    for (const [callId, entries] of toServer) {
      toServer.delete(callId);
      for (const { frame } of entries) if (!sendFrame(frame)) buffer(toServer, callId, frame);
    }
  }

  function broadcast(message) {
    for (const port of ports.values()) port.postMessage(message);
  }

  /** A socket frame's `id` tells which call window sent it (used for `error` answers). */
  function callIdFromReplyId(id) {
    const match = /^call:([A-Za-z0-9._~-]{8,64}):\d+$/.exec(id || "");
    return match ? match[1] : null;
  }

  return {
    attach,
    deliver,
    flush,
    broadcast,
    callIdFromReplyId,
    hasWindow: (callId) => ports.has(callId),
    get bufferedCalls() {
      return [...new Set([...toWindow.keys(), ...toServer.keys()])];
    },
  };
}
