/** The call window's state machine: a pure function from (state, event) to the next state.
 * Covers what Matrix's VoIP events cover: invite, ringing, answer, negotiate (ICE restart),
 * reject, hangup with a reason, answered elsewhere. */

export const PHASES = ["preparing", "calling", "ringing", "answering", "connecting", "connected", "reconnecting", "ended"];

const LIVE = new Set(["connecting", "connected", "reconnecting"]);

export function initialState({ role, peer, now = Date.now() }) {
  return { phase: "preparing", role, peer, startedAt: now, connectedAt: null, endedAt: null, reason: null, message: "" };
}

/** Why this side's microphone could not be used, from getUserMedia's error. */
export function microphoneProblem(error) {
  const name = error?.name || "";
  if (name === "NotAllowedError" || name === "SecurityError" || name === "PermissionDeniedError") return "denied";
  if (name === "NotFoundError" || name === "OverconstrainedError" || name === "DevicesNotFoundError") return "missing";
  return "unavailable";
}

const OWN_MICROPHONE = {
  denied: "Chrome blocked your microphone for NumFree Caller, so the call could not start. Open the microphone setup to allow it.",
  missing: "No microphone was found on this computer, so the call could not start. Connect one and try again.",
  unavailable: "Your microphone could not be started (another app may be using it), so the call could not start.",
};

/** Reasons that are an ordinary end of a call, not a problem to show in an error colour. */
const ORDINARY_ENDS = new Set(["user_hangup", "answered_elsewhere"]);

/** "ordinary" or "problem": how the end message is shown. */
export function endTone(state) {
  if (ORDINARY_ENDS.has(state.reason)) return "ordinary";
  if (state.reason === "rejected" && state.role === "callee") return "ordinary"; // you declined
  return "problem";
}

/** What the window says when the call ends for this reason; `byMe` when this side ended it. */
export function endMessage(reason, { role, peer, wasConnected = false, byMe = false, detail = null } = {}) {
  const who = peer || "The other person";
  switch (reason) {
    case "user_hangup":
      return wasConnected ? "Call ended." : role === "caller" ? "Call cancelled." : `${who} cancelled the call.`;
    case "user_media_failed":
      // Each side is told what happened on its own side: never blamed for the other's microphone.
      if (byMe) return OWN_MICROPHONE[detail] || OWN_MICROPHONE.unavailable;
      return `${who}'s microphone could not be used, so the call could not start. Your own microphone is fine.`;
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

function ended(state, reason, now, { byMe = false, detail = null } = {}) {
  const wasConnected = state.connectedAt !== null;
  return {
    ...state,
    phase: "ended",
    reason,
    endedByMe: byMe,
    endedAt: now,
    message: endMessage(reason, { role: state.role, peer: state.peer, wasConnected, byMe, detail }),
  };
}

export function transition(state, event, now = Date.now()) {
  if (state.phase === "ended") return state;
  switch (event.type) {
    case "media.ready":
      if (state.phase !== "preparing") return state;
      return { ...state, phase: state.role === "caller" ? "calling" : "answering" };
    case "media.failed":
      return ended(state, "user_media_failed", now, { byMe: true, detail: event.cause || null });
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
