// A page that reports work in progress reloads itself every data-refresh seconds until the
// server leaves the attribute out; without script, its "Refresh" link does the same.
(function () {
  "use strict";
  var status = document.querySelector("[data-refresh]");
  if (status) {
    setTimeout(function () { window.location.reload(); }, Number(status.dataset.refresh) * 1000);
  }
}());
