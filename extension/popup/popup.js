/** The popup: sign-in, contacts with presence, requests, calls, incoming calls and the
 * "what this extension accesses" screen. Accept/Decline go to the service worker, which
 * runs the same code for the notification's buttons. Presence is written out, not only
 * coloured; every button names its contact; an offline contact's Call is disabled with the
 * reason next to it; removing a contact asks first. */

import { SERVER_URL } from "../config.js";
import { createApi } from "../lib/api.js";
import { describeCall } from "../lib/callhistory.js";
import { friendlyMessage } from "../lib/http.js";
import { RINGING_KEY } from "../lib/incoming.js";
import { CONTACTS_VERSION_KEY, PRESENCE_KEY } from "../lib/routing.js";
import { AUTH_KEY, NOTICE_KEY, createTokenStore } from "../lib/tokens.js";

const tokens = createTokenStore({ storage: chrome.storage.local, serverUrl: SERVER_URL });
const api = createApi({ tokens, serverUrl: SERVER_URL });
const $ = (id) => document.getElementById(id);

const CONNECTION_TEXT = {
  idle: "Offline",
  connecting: "Connecting…",
  refreshing: "Connecting…",
  open: "Online",
  waiting: "Reconnecting…",
  stopped: "Disconnected",
  signed_out: "Signed out",
};

let contacts = [];
let presence = {};
let view = "main";
let confirmingRemoval = null; // the contact id whose removal is being confirmed

async function ask(type, data = {}) {
  const answer = await chrome.runtime.sendMessage({ type, ...data });
  if (!answer?.ok) throw answer?.error || { code: "error", message: "The extension did not answer." };
  return answer;
}

function el(tag, { text, className, attrs = {} } = {}, children = []) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  for (const child of children) node.append(child);
  return node;
}

function button(text, className, onClick, label) {
  const node = el("button", { text, className, attrs: { type: "button", ...(label ? { "aria-label": label } : {}) } });
  node.addEventListener("click", async () => {
    node.disabled = true;
    try {
      await onClick();
    } catch (problem) {
      showError(problem);
    } finally {
      node.disabled = false;
    }
  });
  return node;
}

function showError(problem) {
  const box = $("error");
  box.textContent = problem ? friendlyMessage(problem) : "";
  box.hidden = !problem;
}

function show(which) {
  for (const id of ["signed-out", "signed-in", "access"]) $(id).hidden = id !== which;
}

async function render() {
  const stored = await chrome.storage.local.get([AUTH_KEY, NOTICE_KEY]);
  if (view === "access") return;
  if (!stored[AUTH_KEY]) {
    show("signed-out");
    const notice = stored[NOTICE_KEY];
    $("notice").textContent = notice?.message || "";
    $("notice").hidden = !notice;
    return;
  }
  show("signed-in");
  $("me").textContent = stored[AUTH_KEY].email;
  const session = await chrome.storage.session.get(["connection", PRESENCE_KEY, RINGING_KEY]);
  renderConnection(session.connection);
  presence = session[PRESENCE_KEY] || {};
  renderRinging(session[RINGING_KEY] || {});
  await Promise.all([loadContacts(), loadCalls()]);
}

function renderConnection(status) {
  const state = status?.state || "idle";
  $("connection").textContent = status?.message && state !== "open" ? status.message : CONNECTION_TEXT[state] || state;
  $("connection").dataset.state = state;
  $("reconnect").hidden = state !== "stopped";
  if (contacts.length) renderContacts();
}

function renderRinging(ringing) {
  const list = $("incoming-list");
  list.replaceChildren();
  const now = Date.now();
  for (const entry of Object.values(ringing)) {
    if (entry.expires_at <= now) continue;
    list.append(
      el("li", { attrs: { "data-call-id": entry.call_id } }, [
        el("span", { className: "who", text: `${entry.from} is calling` }),
        button(
          "Accept",
          "accept",
          async () => {
            await ask("call.accept", { call_id: entry.call_id });
            window.close();
          },
          `Accept call from ${entry.from}`,
        ),
        button("Decline", "decline danger", () => ask("call.decline", { call_id: entry.call_id }), `Decline call from ${entry.from}`),
      ]),
    );
  }
  $("incoming").hidden = list.children.length === 0;
}

async function loadContacts() {
  try {
    contacts = await api.contacts();
  } catch (problem) {
    showError(problem);
    return;
  }
  renderContacts();
}

/** Why this contact cannot be called right now, or "" if they can. */
function callBlocker(contact, isOnline) {
  if ($("connection").dataset.state !== "open") return "You are not connected to NumFree yet.";
  if (!isOnline) return `${contact.email} is offline: they can be called once NumFree Caller is running in their browser.`;
  return "";
}

function contactRow(contact) {
  const isOnline = Boolean(presence[contact.email]);
  const blocker = callBlocker(contact, isOnline);
  const noteId = `why-${contact.id}`;
  const row = el("li", { attrs: { "data-email": contact.email, "data-online": String(isOnline) } });
  const who = el("span", { className: "who" }, [
    el("span", { className: `dot${isOnline ? " online" : ""}`, attrs: { "aria-hidden": "true" } }),
    el("span", { className: "email", text: contact.email }),
    el("span", { className: "presence", text: isOnline ? "Online" : "Offline" }),
  ]);
  if (confirmingRemoval === contact.id) {
    row.append(
      el("span", { className: "who", text: `Remove ${contact.email}? You will no longer see each other or be able to call.` }),
      button(
        "Remove",
        "confirm-remove danger",
        async () => {
          confirmingRemoval = null;
          await api.removeContact(contact.id);
          await loadContacts();
        },
        `Yes, remove ${contact.email}`,
      ),
      button(
        "Cancel",
        "cancel-remove secondary",
        () => {
          confirmingRemoval = null;
          renderContacts();
        },
        `Cancel: keep ${contact.email}`,
      ),
    );
    return row;
  }
  const call = button("Call", "call", () => ask("call.start", { to: contact.email }), `Call ${contact.email}`);
  call.disabled = Boolean(blocker);
  if (blocker) call.setAttribute("aria-describedby", noteId);
  row.append(
    who,
    call,
    button(
      "Remove",
      "remove secondary",
      () => {
        confirmingRemoval = contact.id;
        renderContacts();
        document.querySelector(`#contacts li[data-email="${CSS.escape(contact.email)}"] button.cancel-remove`)?.focus();
      },
      `Remove ${contact.email}`,
    ),
  );
  if (blocker) row.append(el("p", { className: "why muted", text: blocker, attrs: { id: noteId } }));
  return row;
}

function renderContacts() {
  const mutual = contacts.filter((c) => c.status === "mutual");
  $("contacts").replaceChildren(...mutual.map(contactRow));
  $("contacts-empty").hidden = mutual.length > 0;
  const pending = contacts.filter((c) => c.status !== "mutual");
  $("requests").replaceChildren(
    ...pending.map((contact) =>
      el("li", { attrs: { "data-email": contact.email, "data-status": contact.status } }, [
        el("span", { className: "who", text: contact.status === "incoming" ? `${contact.email} wants to add you` : `${contact.email} (asked)` }),
        ...(contact.status === "incoming"
          ? [
              button(
                "Accept",
                "accept-contact",
                async () => {
                  await api.acceptContact(contact.id);
                  await loadContacts();
                },
                `Accept contact request from ${contact.email}`,
              ),
              button(
                "Decline",
                "decline-contact secondary",
                async () => {
                  await api.removeContact(contact.id);
                  await loadContacts();
                },
                `Decline contact request from ${contact.email}`,
              ),
            ]
          : [
              button(
                "Withdraw",
                "secondary",
                async () => {
                  await api.removeContact(contact.id);
                  await loadContacts();
                },
                `Withdraw request to ${contact.email}`,
              ),
            ]),
      ]),
    ),
  );
  $("requests-section").hidden = pending.length === 0;
}

function callItem(call) {
  const { heading, outcome, when } = describeCall(call);
  return el("li", { className: call.missed ? "missed" : "", attrs: { "data-call-id": String(call.id) } }, [
    el("span", { className: "who", text: heading }),
    el("span", { className: "muted", text: `${outcome} · ${when.toLocaleString()}` }),
  ]);
}

async function loadCalls() {
  let page;
  try {
    page = await api.calls();
  } catch (problem) {
    showError(problem);
    return;
  }
  const calls = page?.results || [];
  const missed = calls.filter((c) => c.missed);
  $("missed").replaceChildren(...missed.slice(0, 10).map(callItem));
  $("missed-empty").hidden = missed.length > 0;
  $("recent").replaceChildren(...calls.slice(0, 20).map(callItem));
  $("recent-empty").hidden = calls.length > 0;
}

$("sign-in").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const error = $("sign-in-error");
  error.hidden = true;
  form.querySelector("button").disabled = true;
  const otpStep = $("otp-step");
  try {
    const otp = otpStep.hidden ? "" : form.otp.value;
    await ask("auth.signIn", { email: form.email.value, password: form.password.value, otp });
    form.reset();
    otpStep.hidden = true;
    form.otp.required = false;
    await render();
  } catch (problem) {
    error.textContent = problem.message;
    error.dataset.code = problem.code;
    error.hidden = false;
    // Two-factor sign-in: the same form again with a code field; email and password stay filled in.
    if (problem.code === "two_factor_required" || problem.code === "two_factor_invalid") {
      otpStep.hidden = false;
      form.otp.required = true;
      form.otp.value = "";
      form.otp.focus();
    }
  } finally {
    form.querySelector("button").disabled = false;
  }
});

$("add-contact").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  try {
    await api.addContact(form.email.value.trim());
    form.reset();
    showError(null);
    await loadContacts();
  } catch (problem) {
    showError(problem);
  }
});

$("sign-out").addEventListener("click", async () => {
  await ask("auth.signOut");
  await render();
});

$("reconnect").addEventListener("click", () => ask("signaling.reconnect").catch(showError));

/** The access screen says whether audio can pass through NumFree's relay (TURN) on this server. */
async function renderRelayNote() {
  let relay = "unknown";
  if ((await chrome.storage.local.get(AUTH_KEY))[AUTH_KEY]) {
    try {
      const config = await api.iceServers();
      const urls = (config.iceServers || []).flatMap((server) => [].concat(server.urls || []));
      relay = urls.some((url) => /^turns?:/.test(url)) ? "yes" : "no";
    } catch {
      relay = "unknown";
    }
  }
  $("access-audio").dataset.relay = relay;
  $("access-audio").textContent = {
    no: "Your microphone, only while a call window is open. The audio goes directly to the other person, encrypted (WebRTC), not through NumFree.",
    yes: "Your microphone, only while a call window is open. The audio goes directly to the other person, encrypted (WebRTC) when a direct path exists; when it does not, it passes through NumFree's relay server, still encrypted end to end, so NumFree cannot listen to it.",
    unknown: "Your microphone, only while a call window is open. The audio is encrypted end to end (WebRTC) and goes directly to the other person, or, if the NumFree server runs a relay and no direct path exists, through that relay, still encrypted.",
  }[relay];
}

for (const link of document.querySelectorAll(".show-access")) {
  link.addEventListener("click", (event) => {
    event.preventDefault();
    view = "access";
    show("access");
    renderRelayNote();
  });
}

/** Before the first call: offer the microphone setup page while the microphone is not allowed. */
async function renderMicrophoneHint() {
  let permission = "prompt";
  try {
    permission = (await navigator.permissions.query({ name: "microphone" })).state;
  } catch {
    permission = "prompt";
  }
  $("mic-setup").hidden = permission === "granted";
  $("mic-setup").dataset.permission = permission;
}
$("access-host").textContent = new URL(SERVER_URL).host;
$("access-back").addEventListener("click", () => {
  view = "main";
  render();
});

let contactsReload = null;
chrome.storage.onChanged.addListener((changes, area) => {
  if (area === "local" && (changes[AUTH_KEY] || changes[NOTICE_KEY])) {
    render();
    return;
  }
  if (area !== "session" || view !== "main") return;
  if (changes.connection) renderConnection(changes.connection.newValue);
  if (changes[RINGING_KEY]) renderRinging(changes[RINGING_KEY].newValue || {});
  if (changes[PRESENCE_KEY]) {
    presence = changes[PRESENCE_KEY].newValue || {};
    renderContacts();
  }
  if (changes[CONTACTS_VERSION_KEY]) {
    // A presence snapshot follows every contact change: reload the list.
    clearTimeout(contactsReload);
    contactsReload = setTimeout(loadContacts, 100);
  }
  if (changes.connection?.newValue?.state === "open") loadCalls();
});

// Opening the popup wakes a stopped service worker, which reconnects (now, if a retry was pending).
ask("popup.opened").catch(() => {});
renderMicrophoneHint();
render();
