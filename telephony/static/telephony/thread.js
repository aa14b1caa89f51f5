// Keeps a thread's delivery statuses current: asks the same-origin statuses
// endpoint at most every 5 s while a text may still change, stops when none can.
(function () {
  "use strict";
  const INTERVAL_MS = 5000;
  const GIVE_UP_MS = 10 * 60 * 1000;
  const started = Date.now();

  function pending() {
    return document.querySelectorAll(".thread [data-pending]");
  }

  function apply(answer) {
    (answer.messages || []).forEach(function (message) {
      const item = document.querySelector('.thread [data-message-id="' + String(message.id) + '"]');
      if (!item) {
        return;
      }
      const status = item.querySelector(".text-status");
      if (status && status.textContent !== message.status) {
        status.textContent = message.status;
      }
      if (message.final) {
        item.removeAttribute("data-pending");
      }
    });
  }

  function poll() {
    const list = document.querySelector(".thread[data-statuses]");
    if (!list || pending().length === 0 || Date.now() - started > GIVE_UP_MS) {
      return;
    }
    if (document.hidden) {
      window.setTimeout(poll, INTERVAL_MS);
      return;
    }
    fetch(list.dataset.statuses, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : { messages: [] };
      })
      .then(apply)
      .catch(function () {})
      .then(function () {
        window.setTimeout(poll, INTERVAL_MS);
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    window.setTimeout(poll, INTERVAL_MS);
  });
})();
