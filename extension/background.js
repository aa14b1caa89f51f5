/** NumFree Caller's service worker: sign-in, the signaling socket, incoming calls and call
 * windows. Chrome may stop it at any moment, so everything that matters is in chrome.storage
 * and the top level reconnects whenever it starts (popup opened, notification clicked,
 * browser started, a call window's port). While a reconnect is pending it keeps itself awake
 * (a cheap extension API call every 20 s, retries at most 20 s apart), so an outage of any
 * length ends with the socket back, not with a stopped worker waiting for the user. */

import { SERVER_URL, signalingUrl } from "./config.js";
import { originRefusal } from "./lib/api.js";
import { createCallPorts } from "./lib/callports.js";
import { deviceId, randomId } from "./lib/device.js";
import { ApiProblem } from "./lib/http.js";
import { callKey, createIncomingCalls } from "./lib/incoming.js";
import { createFrameRouter, createMessageRouter, PRESENCE_KEY } from "./lib/routing.js";
import { serialQueue } from "./lib/serial.js";
import { createSignaling } from "./lib/signaling.js";
import { createTokenStore } from "./lib/tokens.js";

const local = chrome.storage.local;
const session = chrome.storage.session;
const CONNECTION_KEY = "connection";
const RINGING_WINDOW_KEY = "ringing_window";

const tokens = createTokenStore({ storage: local, serverUrl: SERVER_URL, onSignedOut: () => afterSignOut() });

const signaling = createSignaling({
  url: signalingUrl(SERVER_URL),
  tokens,
  deviceId: () => deviceId(local),
  onFrame: (frame) => frames.push(frame),
  onState: (status) => connectionChanged(status),
  // Any extension API call resets Chrome's 30 s idle timer; this one has no side effects.
  keepAlive: () => chrome.runtime.getPlatformInfo().catch(() => {}),
  explainRefusal: () => originRefusal({ serverUrl: SERVER_URL, extensionId: chrome.runtime.id }),
});

const callPorts = createCallPorts({
  sendFrame: (frame) => signaling.send(frame),
  onCallEnded: (callId) => markEnded(callId),
});

const incoming = createIncomingCalls({
  session,
  notifications: chrome.notifications,
  openCallWindow,
  showRinging: () => showRingingWindow(),
  sendFrame: (frame) => signaling.send(frame),
  iconUrl: chrome.runtime.getURL("icons/icon-128.png"),
});

const routeFrame = createFrameRouter({ session, incoming, callPorts });
const frames = serialQueue(routeFrame);

async function connectionChanged(status) {
  // Presence is known only while connected: a stale "Online" would invite calls that cannot ring.
  await session.set(status.state === "open" ? { [CONNECTION_KEY]: status } : { [CONNECTION_KEY]: status, [PRESENCE_KEY]: {} });
  if (status.state === "open") callPorts.flush();
  callPorts.broadcast({ type: "signaling", state: status.state });
}

async function afterSignOut() {
  signaling.stop("signed_out");
  const ringing = await incoming.ringing();
  for (const callId of Object.keys(ringing)) await incoming.stopRinging(callId, { forget: true });
  await session.clear();
}

async function openCallWindow(callId) {
  const url = chrome.runtime.getURL(`call/call.html?call_id=${encodeURIComponent(callId)}`);
  const created = await chrome.windows.create({ url, type: "popup", width: 380, height: 560, focused: true });
  const record = (await session.get(callKey(callId)))[callKey(callId)] || {};
  await session.set({ [callKey(callId)]: { ...record, window_id: created.id } });
}

/** Brings a window to the front; false when it no longer exists. */
async function focusWindow(windowId) {
  try {
    await chrome.windows.update(windowId, { focused: true, drawAttention: true });
    return true;
  } catch {
    return false;
  }
}

/** The incoming-call window (it rings and lists every ringing call): focused if open, else opened. */
async function showRingingWindow() {
  const known = (await session.get(RINGING_WINDOW_KEY))[RINGING_WINDOW_KEY];
  if (known !== undefined && (await focusWindow(known))) return;
  const url = chrome.runtime.getURL("incoming/incoming.html");
  const created = await chrome.windows.create({ url, type: "popup", width: 360, height: 260, focused: true });
  await session.set({ [RINGING_WINDOW_KEY]: created.id });
}

async function markEnded(callId) {
  const record = (await session.get(callKey(callId)))[callKey(callId)];
  if (record) await session.set({ [callKey(callId)]: { ...record, ended: true } });
}

/** A closed call window hangs up its call (unless the call had already ended). */
async function windowClosed(windowId) {
  const all = await session.get(null);
  for (const [key, record] of Object.entries(all)) {
    if (!key.startsWith("call:") || record.window_id !== windowId) continue;
    if (!record.ended) signaling.send({ type: "call.hangup", call_id: record.call_id, reason: "user_hangup" });
    await session.remove(key);
  }
}

/** Reconnects when signed in, unless a close code told us to wait for the user. */
async function wake() {
  await incoming.pruneExpired();
  const status = (await session.get(CONNECTION_KEY))[CONNECTION_KEY];
  if (status?.state === "stopped") return;
  if (await tokens.read()) await signaling.start();
}

const dispatch = createMessageRouter({
  async "auth.signIn"({ email, password, otp }) {
    const auth = await tokens.signIn(String(email || ""), String(password || ""), String(otp || "").trim());
    await session.remove(CONNECTION_KEY);
    await signaling.restart();
    return { email: auth.email };
  },
  async "auth.signOut"() {
    await tokens.signOut();
    return {};
  },
  async "popup.opened"() {
    await wake();
    await signaling.retryNow(); // someone is looking: do not make them wait out the backoff
    return { state: signaling.state };
  },
  async "signaling.reconnect"() {
    await signaling.restart();
    return { state: signaling.state };
  },
  async "call.start"({ to }) {
    if (signaling.state !== "open") {
      throw new ApiProblem("not_connected", "Not connected to NumFree yet; wait a moment and try again.");
    }
    const callId = randomId(16);
    await session.set({ [callKey(callId)]: { call_id: callId, role: "caller", peer: String(to) } });
    await openCallWindow(callId);
    return { call_id: callId };
  },
  "call.accept": ({ call_id }) => incoming.accept(call_id),
  "call.decline": ({ call_id }) => incoming.decline(call_id),
});

chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
  if (sender.id !== chrome.runtime.id) return false;
  dispatch(message, sender).then(sendResponse);
  return true;
});

chrome.runtime.onConnect.addListener((port) => {
  if (port.name === "call" && port.sender?.id === chrome.runtime.id) {
    callPorts.attach(port);
    wake();
  }
});

chrome.notifications.onButtonClicked.addListener((id, index) => {
  incoming.onNotificationButton(id, index).catch(() => chrome.notifications.clear(id));
});

/** A click on the notification itself: the call window once answered, else the ringing window.
 * (chrome.action.openPopup would need Chrome 127, the manifest says 116; a window works everywhere.) */
function notificationClicked(id) {
  return incoming.onNotificationClicked(id, { focusCallWindow: focusWindow }).catch(() => {});
}
chrome.notifications.onClicked.addListener(notificationClicked);
// Browser tests cannot click a system notification; they call this instead.
globalThis.numfreeNotificationClicked = notificationClicked;

chrome.windows.onRemoved.addListener(async (windowId) => {
  const known = (await session.get(RINGING_WINDOW_KEY))[RINGING_WINDOW_KEY];
  if (known === windowId) await session.remove(RINGING_WINDOW_KEY);
  windowClosed(windowId);
});

// A part that signs out on its own (the popup seeing a revoked sign-in) clears `auth`.
chrome.storage.onChanged.addListener((changes, area) => {
  if (area === "local" && changes.auth && !changes.auth.newValue && signaling.state !== "signed_out") afterSignOut();
});

chrome.runtime.onStartup.addListener(() => wake());
chrome.runtime.onInstalled.addListener((details) => {
  wake();
  // First run: the page that asks for the microphone before the first call.
  if (details?.reason === "install") chrome.windows.create({ url: chrome.runtime.getURL("welcome/welcome.html"), focused: true });
});

wake();
