// Playing a voicemail marks it heard: the audio's first play event posts to
// the same-origin "heard" endpoint. Without script, the "Mark heard" button does it.
(function () {
  "use strict";

  function markHeard(audio) {
    const url = audio.dataset.heardUrl;
    if (!url) {
      return;
    }
    delete audio.dataset.heardUrl;
    const body = new FormData();
    body.append("heard", "1");
    fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": audio.dataset.csrf, Accept: "application/json" },
    })
      .then(function (response) {
        if (!response.ok) {
          audio.dataset.heardUrl = url;
          return;
        }
        const row = audio.closest("tr");
        if (row) {
          row.classList.remove("unheard");
          const badge = row.querySelector(".new-badge");
          if (badge) {
            badge.textContent = "Heard";
            badge.classList.add("heard");
          }
        }
      })
      .catch(function () {
        audio.dataset.heardUrl = url;
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("audio[data-heard-url]").forEach(function (audio) {
      audio.addEventListener("play", function () {
        markHeard(audio);
      });
    });
  });
})();
