// NumFree's one page script (the CSP allows only scripts from our own origin). Every page works
// without it; it only adds: the menu always open on wide screens, and pages that update themselves.
"use strict";

const WIDE = window.matchMedia("(min-width: 60rem)");
const MIN_POLL_SECONDS = 5;
const MAX_POLLS = 120; // ten minutes at five seconds, then the page stops asking

function syncMenu(menu) {
  menu.open = WIDE.matches;
}

// <section data-poll-url="/same/origin/json/" data-poll-seconds="5">: GET the URL every few seconds;
// the JSON's "message" replaces [data-poll-status]'s text; when "done" is true polling stops and
// "next" ({label, url}) becomes a link in [data-poll-next], and [data-poll-stale] parts are hidden.
function poll(element) {
  const url = new URL(element.dataset.pollUrl, window.location.href);
  if (url.origin !== window.location.origin) return;
  const seconds = Math.max(MIN_POLL_SECONDS, Number(element.dataset.pollSeconds) || MIN_POLL_SECONDS);
  const status = element.querySelector("[data-poll-status]");
  const next = element.querySelector("[data-poll-next]");
  let polls = 0;

  async function once() {
    polls += 1;
    let answer = null;
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (response.ok) answer = await response.json();
    } catch {
      answer = null; // offline for a moment: ask again next time
    }
    if (answer && status && answer.message) status.textContent = answer.message;
    if (answer && answer.done) {
      element.dataset.pollState = "done";
      document.querySelectorAll("[data-poll-stale]").forEach((stale) => {
        stale.hidden = true;
      });
      if (next && answer.next) {
        const link = document.createElement("a");
        link.className = "button";
        link.href = new URL(answer.next.url, window.location.href).pathname;
        link.textContent = answer.next.label;
        next.replaceChildren(link);
        next.hidden = false;
      }
      return;
    }
    if (polls < MAX_POLLS) window.setTimeout(once, seconds * 1000);
  }
  element.dataset.pollState = "polling";
  window.setTimeout(once, seconds * 1000);
}

document.addEventListener("DOMContentLoaded", () => {
  const menu = document.getElementById("site-menu");
  if (menu) {
    syncMenu(menu);
    WIDE.addEventListener("change", () => syncMenu(menu));
  }
  document.querySelectorAll("[data-poll-url]").forEach(poll);
});
