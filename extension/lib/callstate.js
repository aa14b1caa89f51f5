/** The call window's state machine: a pure function from (state, event) to the next state.
 * Covers what Matrix's VoIP events cover: invite, ringing, answer, negotiate (ICE restart),
 * reject, hangup with a reason, answered elsewhere. */

export const PHASES = ["preparing", "calling", "ringing", "answering", "connecting", "connected", "reconnecting", "ended"];

const LIVE = new Set(["connecting", "connected", "reconnecting"]);

export function initialState({ role, peer, now = Date.now() }) {
  return { phase: "preparing", role, peer, startedAt: now, connectedAt: null, endedAt: null, reason: null, message: "" };
}

/** What the window says when the call ends for this reason. */
export function endMessage(reason, { role, peer, wasConnected = false } = {}) {
  const who = peer || "The other person";
  switch (reason) {
    case "user_hangup":
      return wasConnected ? "Call ended." : role === "caller" ? "Call cancelled." : `${who} cancelled the call.`;
    case "user_media_failed":
      return "Microphone access was denied or no microphone was found. Allow the microphone for NumFree Caller and try again.";
    case "offline":
      return wasConnected ? `${who} went offline; the call ended.` : `${who} is not online right now.`;
    case "rejected":
      return role === "caller" ? `${who} declined the call.` : "You declined the call.";
    case "user_busy":
      return `${who} is busy.`;
    case "invite_timeout":
      return role === "caller" ? `${who} did not answer.` : "Missed call.";
    case "ice_failed":
    case "ice_timeout":
      return "The connection failed: no network path between you and the other person.";
    case "replaced":
      return "This call was replaced by a call between the same two people.";
    case "answered_elsewhere":
      return "Answered on another device.";
    case "not_a_contact":
      return `You can only call mutual contacts; ${who} has not accepted you yet.`;
    case "already_answered":
      return "This call was already answered on another device.";
    case "unknown_call":
      return "This call no longer exists.";
    case "signaling_lost":
      return "Lost the connection to NumFree; the call ended.";
    default:
      return "The call ended.";
  }
}

function ended(state, reason, now, { byMe = false } = {}) {
  const wasConnected = state.connectedAt !== null;
  return {
    ...state,
    phase: "ended",
    reason,
    endedByMe: byMe,
    endedAt: now,
    message: endMessage(reason, { role: state.role, peer: state.peer, wasConnected }),
  };
}

export function transition(state, event, now = Date.now()) {
  if (state.phase === "ended") return state;
  switch (event.type) {
    case "media.ready":
      if (state.phase !== "preparing") return state;
      return { ...state, phase: state.role === "caller" ? "calling" : "answering" };
    case "media.failed":
      return ended(state, "user_media_failed", now, { byMe: true });
    case "status.ringing":
      return state.phase === "calling" ? { ...state, phase: "ringing" } : state;
    case "answer.received":
      return state.role === "caller" && (state.phase === "calling" || state.phase === "ringing")
        ? { ...state, phase: "connecting" }
        : state;
    case "answer.sent":
      return state.role === "callee" && state.phase === "answering" ? { ...state, phase: "connecting" } : state;
    case "ice.connected":
      if (!LIVE.has(state.phase)) return state;
      return { ...state, phase: "connected", connectedAt: state.connectedAt ?? now };
    case "ice.failed":
      return LIVE.has(state.phase) ? { ...state, phase: "reconnecting" } : state;
    case "hangup.received":
      return ended(state, event.reason || "unknown_error", now);
    case "hangup.local":
      return ended(state, event.reason || "user_hangup", now, { byMe: true });
    case "answered_elsewhere":
      return ended(state, "answered_elsewhere", now);
    case "error":
      return ended(state, event.code || "unknown_error", now);
    default:
      return state;
  }
}

/** Whole seconds between connect and now (or the end). */
export function durationSeconds(state, now = Date.now()) {
  if (state.connectedAt === null) return 0;
  return Math.max(0, Math.floor(((state.endedAt ?? now) - state.connectedAt) / 1000));
}

export function formatDuration(seconds) {
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return `${m}:${String(s).padStart(2, "0")}`;
}
