// The door page, enhanced: ticket codes (typed or read by the camera's BarcodeDetector) are
// queued in localStorage, each with a nonce, and sent to the sync endpoint; what the network
// does not take stays queued and goes when the connection is back. The server records each
// nonce once, so a batch sent twice does no harm. Without this script the page still works:
// its forms post as usual.
(function () {
  "use strict";
  var desk = document.getElementById("desk");
  if (!desk) { return; }
  var QUEUE_KEY = "checkin-queue:" + desk.dataset.syncUrl;
  var labels = document.getElementById("outcome-labels").dataset;
  var form = document.getElementById("token-form");
  var input = form.querySelector("input[name=token]");
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var slot = document.getElementById("outcome-slot");
  var banner = document.getElementById("offline-banner");
  var count = document.getElementById("offline-count");
  var sending = false;

  function load() {
    try { return JSON.parse(localStorage.getItem(QUEUE_KEY)) || []; } catch (error) { return []; }
  }
  function save(queue) { localStorage.setItem(QUEUE_KEY, JSON.stringify(queue)); }
  function nonce() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function showOffline(offline) {
    var waiting = load().length;
    banner.hidden = !offline && waiting === 0;
    count.textContent = waiting ? labels.pending + " " + waiting : "";
  }

  function element(tag, text, className) {
    var node = document.createElement(tag);
    if (text) { node.textContent = text; }
    if (className) { node.className = className; }
    return node;
  }

  function show(result, className) {
    var section = element("section", "", "outcome " + className);
    section.id = "outcome";
    section.tabIndex = -1;
    section.setAttribute("aria-labelledby", "outcome-title");
    var title = element("h2", (result.admitted ? "✓ " : className === "outcome-queued" ? "" : "✗ ") + result.message);
    title.id = "outcome-title";
    section.appendChild(title);
    if (result.name) {
      var person = element("p", "", "outcome-person");
      person.appendChild(element("strong", result.name));
      person.appendChild(document.createTextNode(" · " + result.organisation + " · #" + result.number));
      section.appendChild(person);
    }
    if (result.pre_events && result.pre_events.length) {
      section.appendChild(element("p", labels.preEvents));
      var list = element("ul");
      result.pre_events.forEach(function (title) { list.appendChild(element("li", title)); });
      section.appendChild(list);
    }
    if (result.flags && result.flags.length) {
      var flags = element("ul", "", "outcome-flags");
      result.flags.forEach(function (flag) { flags.appendChild(element("li", flag)); });
      section.appendChild(flags);
    }
    if (result.check_in) {
      var undo = element("form");
      undo.method = "post";
      undo.action = desk.dataset.undoUrl;
      [["csrfmiddlewaretoken", csrf], ["check_in", String(result.check_in)]].forEach(function (pair) {
        var hidden = element("input");
        hidden.type = "hidden";
        hidden.name = pair[0];
        hidden.value = pair[1];
        undo.appendChild(hidden);
      });
      undo.appendChild(element("button", labels.undo, "button-secondary"));
      section.appendChild(undo);
    }
    slot.replaceChildren(section);
  }

  // Sends the queue, BATCH scans a request (the server takes up to 500); removes what the
  // server answered for, shows the last answer, and carries on while scans remain.
  var BATCH = 100;
  function flush() {
    var queue = load().slice(0, BATCH);
    if (sending || !queue.length) { showOffline(!navigator.onLine); return Promise.resolve(); }
    sending = true;
    return fetch(desk.dataset.syncUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ scans: queue })
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    }).then(function (data) {
      var answered = {};
      data.results.forEach(function (result) { answered[result.nonce] = true; });
      save(load().filter(function (item) { return !answered[item.nonce]; }));
      var last = data.results[data.results.length - 1];
      if (last) { show(last, last.admitted ? "outcome-ok" : "outcome-refused"); }
      showOffline(false);
      return data.results.length;
    }, function (error) {
      var offline = !navigator.onLine || error instanceof TypeError;
      if (!offline) { show({ admitted: false, message: labels.error }, "outcome-refused"); }
      showOffline(offline);
    }).finally(function () { sending = false; }).then(function (answered) {
      if (answered && load().length) { return flush(); }
    });
  }

  function submit(token) {
    token = token.trim();
    if (!token) { return; }
    var queue = load();
    queue.push({ nonce: nonce(), token: token, door: desk.dataset.door, scanned_at: Date.now() });
    save(queue);
    input.value = "";
    if (!navigator.onLine) {
      show({ admitted: false, message: labels.queued }, "outcome-queued");
      showOffline(true);
      return;
    }
    flush().then(function () {
      if (load().length) { show({ admitted: false, message: labels.queued }, "outcome-queued"); }
    });
  }

  form.addEventListener("submit", function (event) {
    if (!input.value.trim()) { return; }
    event.preventDefault();
    submit(input.value);
  });
  window.addEventListener("online", flush);
  window.addEventListener("offline", function () { showOffline(true); });
  // A phone that slept may have missed the "online" event.
  setInterval(flush, 15000);
  flush();

  if (!("BarcodeDetector" in window) || !navigator.mediaDevices) { return; }
  var camera = document.getElementById("camera");
  var video = document.getElementById("camera-video");
  camera.hidden = false;
  document.getElementById("camera-start").addEventListener("click", function () {
    var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    var lastValue = "", lastAt = 0;
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
      video.srcObject = stream;
      video.hidden = false;
      return video.play();
    }).then(function () {
      // A code held in front of the camera is read many times a second: take it once.
      setInterval(function () {
        detector.detect(video).then(function (codes) {
          var value = codes.length ? codes[0].rawValue : "";
          if (value && (value !== lastValue || Date.now() - lastAt > 5000)) {
            lastValue = value;
            lastAt = Date.now();
            submit(value);
          }
        }).catch(function () { /* a frame that could not be read */ });
      }, 300);
    }).catch(function () {
      show({ admitted: false, message: labels.cameraError }, "outcome-refused");
    });
  });
}());
