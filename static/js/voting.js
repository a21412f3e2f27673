/* The voter page and the big screen, live. Without this script both still work: the
   voter's forms are plain POSTs, and the screen shows what was true when it loaded.

   Voter page: each form is sent with fetch and the page's main part is swapped for the
   answer (the same HTML a plain POST gets), focus going to the message; every few
   seconds live.json says whether a poll opened or closed, and then the page is fetched
   again, unless the voter has started filling in a form.

   Screen: server-sent events from screen/events, each bringing the rendered results to
   swap in. The browser reconnects by itself, sending the id of the last event, so it is
   told only what moved (on sync workers the server ends every answer at once, and this is
   short polling once a second; see docs/voting.md). */
(function () {
  "use strict";
  var VOTER_EVERY = 3000;
  var SCREEN_RESTART = 5000;

  /* Calls onData with the latest answer after every request: fresh after a 200, the
     one kept from before after a 304. */
  function poll(url, every, onData) {
    var etag = null;
    var last = null;
    function tick() {
      var headers = etag ? { "If-None-Match": etag } : {};
      fetch(url, { headers: headers, cache: "no-store", credentials: "same-origin" })
        .then(function (response) {
          if (response.status === 200) {
            etag = response.headers.get("ETag");
            return response.json().then(function (data) {
              last = data;
              onData(data);
            });
          }
          if (response.status === 304 && last) {
            onData(last);
          }
        })
        .catch(function () {})
        .then(function () {
          window.setTimeout(tick, every);
        });
    }
    window.setTimeout(tick, every);
  }

  var screen = document.getElementById("screen-live");
  if (screen) {
    var status = document.getElementById("screen-status");
    var follow = function () {
      var source = new EventSource(screen.dataset.url);
      source.addEventListener("message", function (event) {
        var data = JSON.parse(event.data);
        screen.innerHTML = data.html;
        if (status.textContent !== data.status) {
          status.textContent = data.status;
        }
      });
      // EventSource gives up for good on an answer that is not a stream (the 503 page while
      // the database is away, a login page once the session has expired): start again.
      source.addEventListener("error", function () {
        if (source.readyState === EventSource.CLOSED) {
          window.setTimeout(follow, SCREEN_RESTART);
        }
      });
    };
    follow();
    return;
  }

  var main = document.getElementById("main");
  var live = document.getElementById("live");
  if (!live) {
    return;
  }
  var dirty = false;

  function swap(html) {
    var next = new DOMParser().parseFromString(html, "text/html").getElementById("main");
    if (!next) {
      return;
    }
    main.innerHTML = next.innerHTML;
    dirty = false;
    var notice = main.querySelector(".messages, [role=alert]");
    if (notice) {
      notice.setAttribute("tabindex", "-1");
      notice.focus();
    }
  }

  function reload() {
    fetch(window.location.href, { cache: "no-store", credentials: "same-origin" })
      .then(function (response) {
        return response.text();
      })
      .then(swap)
      .catch(function () {});
  }

  main.addEventListener("input", function () {
    dirty = true;
  });
  main.addEventListener("change", function () {
    dirty = true;
  });
  main.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList.contains("js-live")) {
      return;
    }
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    if (button) {
      button.disabled = true;
    }
    fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin" })
      .then(function (response) {
        return response.text();
      })
      .then(swap)
      .catch(function () {
        form.submit();
      });
  });

  // Against the version the page was rendered at (after a swap, the new page's): a voter
  // busy with a form is not interrupted, and the page catches up once they are done.
  poll(live.dataset.liveUrl, VOTER_EVERY, function (data) {
    var shown = document.getElementById("live");
    if (shown && data.version !== shown.dataset.liveVersion && !dirty) {
      reload();
    }
  });
})();
