/* The moderator's page keeps its polls, results and questions current: every few seconds it
   asks for the lists alone (with the ETag of what it shows, so an unchanged page costs a 304
   of no body) and swaps in what changed. Without this script the page shows what was true
   when it loaded, and its Refresh link reloads it.

   A moderator who is on one of the lists' buttons (focus inside them) is not interrupted:
   the lists catch up once the focus leaves. A screen reader hears one short status line. */
(function () {
  "use strict";
  var EVERY = 4000;
  var lists = document.getElementById("moderate-lists");
  var status = document.getElementById("moderate-updated");
  if (!lists || !status) {
    return;
  }
  var url = lists.dataset.partUrl;

  function tick() {
    if (lists.contains(document.activeElement)) {
      window.setTimeout(tick, EVERY);
      return;
    }
    fetch(url, {
      headers: { "If-None-Match": lists.dataset.version },
      cache: "no-store",
      credentials: "same-origin",
    })
      .then(function (response) {
        if (response.status !== 200) {
          return;
        }
        var version = response.headers.get("ETag");
        return response.text().then(function (html) {
          if (lists.contains(document.activeElement) || version === lists.dataset.version) {
            return;
          }
          lists.innerHTML = html;
          lists.dataset.version = version;
          status.textContent = status.dataset.message;
        });
      })
      .catch(function () {})
      .then(function () {
        window.setTimeout(tick, EVERY);
      });
  }
  window.setTimeout(tick, EVERY);
})();
