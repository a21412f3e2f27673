/* Stars without an account: the buttons beside each session keep the starred session
   codes in this browser (localStorage, per conference). Once the visitor logs in, the
   page carries a hidden form (#star-merge); the codes kept here are posted with it once,
   the server adds them to the account, and the browser forgets them. Logged-in visitors
   star with plain forms that need no script. */
(function () {
  "use strict";

  function storageKey(conference) {
    return "stars:" + conference;
  }

  function load(conference) {
    try {
      var codes = JSON.parse(window.localStorage.getItem(storageKey(conference)) || "[]");
      return Array.isArray(codes) ? codes.filter(function (code) { return typeof code === "string"; }) : [];
    } catch (error) {
      return [];
    }
  }

  function save(conference, codes) {
    try {
      window.localStorage.setItem(storageKey(conference), JSON.stringify(codes));
    } catch (error) {
      // Storage full or refused (private browsing): the star lasts until the page closes.
    }
  }

  function show(button, on) {
    button.setAttribute("aria-pressed", on ? "true" : "false");
    button.textContent = on ? button.dataset.labelOn : button.dataset.labelOff;
  }

  var merge = document.getElementById("star-merge");
  if (merge) {
    var conference = merge.dataset.starConference;
    var kept = load(conference);
    if (!kept.length) {
      return;
    }
    var data = new FormData(merge);
    kept.forEach(function (code) { data.append("code", code); });
    window.fetch(merge.action, { method: "POST", body: data, credentials: "same-origin" }).then(function (response) {
      if (response.ok) {
        window.localStorage.removeItem(storageKey(conference));
        window.location.reload();
      }
    });
    return;
  }

  document.querySelectorAll("button[data-star-session]").forEach(function (button) {
    var conference = button.dataset.starConference;
    var code = button.dataset.starSession;
    show(button, load(conference).indexOf(code) !== -1);
    button.hidden = false;
    button.addEventListener("click", function () {
      var codes = load(conference);
      var index = codes.indexOf(code);
      if (index === -1) {
        codes.push(code);
      } else {
        codes.splice(index, 1);
      }
      save(conference, codes);
      show(button, index === -1);
    });
  });
})();
