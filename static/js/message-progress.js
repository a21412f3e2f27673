// The progress of a message being sent, kept up to date from its small JSON endpoint
// until every email is sent or failed; without script, the "Refresh" link does the same.
(function () {
  "use strict";
  var box = document.querySelector("[data-progress-url]");
  if (!box) { return; }
  function update() {
    fetch(box.dataset.progressUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (progress) {
        if (!progress) { return; }
        box.querySelectorAll("[data-progress]").forEach(function (element) {
          element.textContent = progress[element.dataset.progress];
        });
        if (progress.state !== "sent" || progress.queued > 0) { setTimeout(update, 2000); }
      })
      .catch(function () { setTimeout(update, 5000); });
  }
  update();
}());
