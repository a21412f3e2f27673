/* After a form comes back with errors: focus the summary at the top of the page, so it is
   read out first, and let its links move focus to the field they name (a plain link to
   the field's id only scrolls the page). Without this script the summary is still the
   first thing in the page and its links still lead to the fields. */
(function () {
  "use strict";
  var summary = document.querySelector(".error-summary");
  if (!summary) {
    return;
  }
  summary.focus();
  summary.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#']");
    var target = link && document.getElementById(decodeURIComponent(link.hash.slice(1)));
    if (!target) {
      return;
    }
    var field = target.matches("input, select, textarea") ? target : target.querySelector("input, select, textarea");
    if (!field) {
      return;
    }
    event.preventDefault();
    // The question belongs on screen with its field: the label, or the group's legend.
    var legend = target.matches("fieldset") ? target.querySelector("legend") : null;
    var label = legend || document.querySelector("label[for='" + field.id + "']") || field;
    label.scrollIntoView();
    field.focus({ preventScroll: true });
  });
})();
