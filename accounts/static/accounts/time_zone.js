// Reports the browser's time zone once, for an account that has none yet
// (accounts/time_zones.py keeps it on the account; nothing is stored here).
(function () {
  "use strict";
  const script = document.currentScript;
  let zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (error) {
    return;
  }
  if (!zone || !script) {
    return;
  }
  const body = new FormData();
  body.append("time_zone", zone);
  fetch(script.dataset.endpoint, {
    method: "POST",
    body: body,
    credentials: "same-origin",
    headers: { "X-CSRFToken": script.dataset.csrf, Accept: "application/json" },
  })
    .then(function (response) {
      return response.ok ? response.json() : null;
    })
    .then(function (answer) {
      // Times on this page were drawn in UTC: show them again in the new zone.
      if (answer && answer.saved && document.querySelector("time")) {
        window.location.reload();
      }
    })
    .catch(function () {});
})();
