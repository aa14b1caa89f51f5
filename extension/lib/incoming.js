/** Incoming calls while they ring: one notification per call, the incoming-call window that rings
 * audibly, and one accept/decline code path shared by that window, the popup and the
 * notification's buttons. */

import { ApiProblem } from "./http.js";

export const RINGING_KEY = "ringing";
export const DEFAULT_LIFETIME_MS = 60_000;

export function callKey(callId) {
  return `call:${callId}`;
}

export function notificationId(callId) {
  return `incoming:${callId}`;
}

export function callIdFromNotification(id) {
  return id.startsWith("incoming:") ? id.slice("incoming:".length) : null;
}

export function createIncomingCalls({
  session,
  notifications,
  openCallWindow,
  showRinging = async () => {},
  sendFrame,
  iconUrl = "icons/icon-128.png",
  now = () => Date.now(),
  timers = globalThis,
}) {
  async function ringing() {
    return (await session.get(RINGING_KEY))[RINGING_KEY] || {};
  }

  async function onInvite(frame) {
    const list = await ringing();
    if (list[frame.call_id]) return; // the same call again (another socket, a replay): still one notification
    const lifetime = Number(frame.lifetime_ms) > 0 ? Number(frame.lifetime_ms) : DEFAULT_LIFETIME_MS;
    const entry = { call_id: frame.call_id, from: frame.from, expires_at: now() + lifetime };
    await session.set({
      [RINGING_KEY]: { ...list, [frame.call_id]: entry },
      [callKey(frame.call_id)]: {
        call_id: frame.call_id,
        role: "callee",
        peer: frame.from,
        sdp: frame.sdp,
        // The caller's verification commitment (absent from an old caller: the window says "not verified").
        ...(typeof frame.sas_commitment === "string" ? { sas_commitment: frame.sas_commitment } : {}),
      },
    });
    await notifications.create(notificationId(frame.call_id), {
      type: "basic",
      iconUrl,
      title: "Incoming NumFree call",
      message: `${frame.from} is calling you.`,
      buttons: [{ title: "Accept" }, { title: "Decline" }],
      requireInteraction: true,
      priority: 2,
    });
    timers.setTimeout(() => stopRinging(frame.call_id, { forget: true }), lifetime);
    await showRinging(frame.call_id);
  }

  /** The call stops ringing here: answered elsewhere, rejected, cancelled, timed out, or handled. */
  async function stopRinging(callId, { forget = false } = {}) {
    const list = await ringing();
    if (list[callId]) {
      const { [callId]: _gone, ...rest } = list;
      await session.set({ [RINGING_KEY]: rest });
    }
    if (forget) await session.remove(callKey(callId));
    await notifications.clear(notificationId(callId));
  }

  async function ringingEntry(callId) {
    const entry = (await ringing())[callId];
    if (!entry || entry.expires_at <= now()) {
      await stopRinging(callId, { forget: true });
      throw new ApiProblem("not_ringing", "This call is no longer ringing.");
    }
    return entry;
  }

  async function accept(callId) {
    await ringingEntry(callId);
    await stopRinging(callId);
    await openCallWindow(callId);
    return { call_id: callId };
  }

  async function decline(callId) {
    await ringingEntry(callId);
    sendFrame({ type: "call.reject", call_id: callId });
    await stopRinging(callId, { forget: true });
    return { call_id: callId };
  }

  /** The notification itself was clicked: bring up the call's UI (its call window once answered,
   * the ringing window while it rings). */
  async function onNotificationClicked(id, { focusCallWindow }) {
    const callId = callIdFromNotification(id);
    if (!callId) return;
    const record = (await session.get(callKey(callId)))[callKey(callId)];
    if (record?.window_id !== undefined && (await focusCallWindow(record.window_id))) return;
    if ((await ringing())[callId]) await showRinging(callId);
  }

  async function onNotificationButton(id, buttonIndex) {
    const callId = callIdFromNotification(id);
    if (!callId) return null;
    return buttonIndex === 0 ? accept(callId) : decline(callId);
  }

  /** After a restart of the worker: drop calls whose ringing time is over. */
  async function pruneExpired() {
    for (const entry of Object.values(await ringing())) {
      if (entry.expires_at <= now()) await stopRinging(entry.call_id, { forget: true });
    }
  }

  return { onInvite, stopRinging, accept, decline, onNotificationButton, onNotificationClicked, pruneExpired, ringing };
}
