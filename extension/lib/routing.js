/** Routing in the service worker: popup messages by `type` to their handler, and signaling
 * frames by `type` to presence, incoming calls or the call's window. */

import { friendlyMessage } from "./http.js";

export const PRESENCE_KEY = "presence";
/** Bumped by every presence.snapshot, which the server sends after any contact change: the
 * popup reloads the contact list when it moves (the presence map alone may not change). */
export const CONTACTS_VERSION_KEY = "contacts_version";

/** Wraps handlers {type: async (message, sender) => result} into one dispatch function whose
 * answer is always {ok: true, ...result} or {ok: false, error: {code, message}}. */
export function createMessageRouter(handlers) {
  return async function dispatch(message, sender) {
    const handler = message && typeof message.type === "string" ? handlers[message.type] : undefined;
    if (!handler) {
      return { ok: false, error: { code: "unknown_message", message: `Unknown message ${message?.type}` } };
    }
    try {
      return { ok: true, ...((await handler(message, sender)) || {}) };
    } catch (problem) {
      return { ok: false, error: { code: problem.code || "error", message: friendlyMessage(problem) } };
    }
  };
}

export function createFrameRouter({ session, incoming, callPorts }) {
  async function presence() {
    return (await session.get(PRESENCE_KEY))[PRESENCE_KEY] || {};
  }

  return async function routeFrame(frame) {
    switch (frame.type) {
      case "presence.snapshot": {
        const map = {};
        for (const contact of frame.contacts || []) map[contact.email] = Boolean(contact.online);
        const version = ((await session.get(CONTACTS_VERSION_KEY))[CONTACTS_VERSION_KEY] || 0) + 1;
        await session.set({ [PRESENCE_KEY]: map, [CONTACTS_VERSION_KEY]: version });
        return;
      }
      case "presence.update":
        await session.set({ [PRESENCE_KEY]: { ...(await presence()), [frame.email]: Boolean(frame.online) } });
        return;
      case "call.invite":
        await incoming.onInvite(frame);
        return;
      case "call.answered_elsewhere":
      case "call.hangup":
        await incoming.stopRinging(frame.call_id, { forget: !callPorts.hasWindow(frame.call_id) });
        callPorts.deliver(frame.call_id, frame);
        return;
      case "call.status":
      case "call.answer":
      case "call.candidates":
      case "call.negotiate":
      case "call.sas_reveal":
        callPorts.deliver(frame.call_id, frame);
        return;
      case "error": {
        const callId = callPorts.callIdFromReplyId(frame.id);
        if (callId) callPorts.deliver(callId, frame);
        return;
      }
      default:
        return; // auth.ok is handled by the socket; unknown frames are ignored
    }
  };
}
