/** Call history in words a person uses: "Missed call", "Declined", "Talked 2:03", never an
 * end_reason code such as `offline` or `rejected` (GET /api/calls/ rows, app and phone calls). */

const OUTGOING = {
  rejected: "Declined",
  user_busy: "Busy",
  offline: "Not online",
  invite_timeout: "No answer",
  user_hangup: "Cancelled",
  replaced: "Replaced by another call",
  user_media_failed: "Microphone problem",
  ice_failed: "Could not connect",
  ice_timeout: "Could not connect",
  // Twilio statuses of phone calls
  busy: "Busy",
  "no-answer": "No answer",
  canceled: "Cancelled",
  failed: "Could not connect",
  blocked: "Blocked",
};
const INCOMING = {
  rejected: "You declined",
  user_busy: "You were busy",
  replaced: "Replaced by another call",
  user_media_failed: "Microphone problem",
  ice_failed: "Could not connect",
  ice_timeout: "Could not connect",
  blocked: "Blocked",
};

function duration(seconds) {
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

/** What happened, in a few words. */
export function callOutcome(call) {
  if (call.missed) return call.direction === "in" ? "Missed call" : "Not answered";
  if (call.answered_at || call.duration_s > 0) return `Talked ${duration(call.duration_s || 0)}`;
  if (!call.ended_at) return "In progress";
  const words = (call.direction === "in" ? INCOMING : OUTGOING)[call.end_reason];
  return words || "Ended";
}

/** The whole line for a call, e.g. "Incoming call from bob@example.com · Missed call". */
export function describeCall(call) {
  const who = call.peer || "a deleted user";
  const heading = call.direction === "in" ? `Incoming call from ${who}` : `Call to ${who}`;
  return { heading, outcome: callOutcome(call), when: new Date(call.started_at) };
}
