/** The incoming-call window: opened by the service worker when a call rings (and focused when
 * its notification is clicked), it rings audibly and offers Accept and Decline, the same two
 * actions as the notification's buttons and the popup. It closes itself once nothing rings. */

import { RINGING_KEY } from "../lib/incoming.js";
import { createRingtone } from "../lib/ringtone.js";

const $ = (id) => document.getElementById(id);
const ringtone = createRingtone();

/** For the browser tests: the ringtone's state, and when this page first heard it (measured by
 * the page itself, so no test interaction can have unlocked the sound). */
globalThis.numfreeRinging = {
  get state() {
    return ringtone.state;
  },
  level: () => ringtone.level(),
  audibleAt: null,
};
const listen = setInterval(() => {
  if (ringtone.level() > 0.01) {
    globalThis.numfreeRinging.audibleAt = Date.now();
    clearInterval(listen);
  }
}, 20);

async function ask(type, data) {
  const answer = await chrome.runtime.sendMessage({ type, ...data });
  if (!answer?.ok) throw answer?.error || { message: "The extension did not answer." };
  return answer;
}

function actionButton(text, className, label, action) {
  const node = document.createElement("button");
  node.type = "button";
  node.className = className;
  node.textContent = text;
  node.setAttribute("aria-label", label);
  node.addEventListener("click", async () => {
    node.disabled = true;
    try {
      await action();
    } catch (problem) {
      $("error").textContent = problem.message || String(problem);
      $("error").hidden = false;
      node.disabled = false;
    }
  });
  return node;
}

function render(ringing) {
  const now = Date.now();
  const live = Object.values(ringing || {}).filter((entry) => entry.expires_at > now);
  $("calls").replaceChildren(
    ...live.map((entry) => {
      const row = document.createElement("li");
      row.dataset.callId = entry.call_id;
      const who = document.createElement("span");
      who.className = "who";
      who.textContent = `${entry.from} is calling`;
      row.append(
        who,
        actionButton("Accept", "accept", `Accept call from ${entry.from}`, () => ask("call.accept", { call_id: entry.call_id })),
        actionButton("Decline", "decline danger", `Decline call from ${entry.from}`, () =>
          ask("call.decline", { call_id: entry.call_id }),
        ),
      );
      return row;
    }),
  );
  if (live.length) {
    ringtone.start();
    $("calls").querySelector("button.accept")?.focus();
  } else {
    ringtone.stop();
    window.close();
  }
}

chrome.storage.onChanged.addListener((changes, area) => {
  if (area === "session" && changes[RINGING_KEY]) render(changes[RINGING_KEY].newValue);
});

render((await chrome.storage.session.get(RINGING_KEY))[RINGING_KEY]);
