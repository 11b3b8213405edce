// The replay page: loads the recording from the API and plays it with rrweb-player.
(function () {
  "use strict";
  var el = document.getElementById("player");
  if (!el) return;
  var session = el.dataset.session;
  var startAt = parseInt(el.dataset.t || "0", 10) || 0;

  function show(message) {
    el.textContent = "";
    var p = document.createElement("p");
    p.className = "error";
    p.textContent = message;
    el.appendChild(p);
  }

  // Share links: a shared page names its own events URL (through the token).
  var eventsUrl = el.dataset.eventsUrl || "/api/sessions/" + encodeURIComponent(session) + "/events";
  fetch(eventsUrl, { credentials: "same-origin" })
    .then(function (r) {
      if (!r.ok) throw new Error("the recording could not be loaded (HTTP " + r.status + ")");
      return r.json();
    })
    .then(function (events) {
      var full = events.filter(function (e) { return e.type === 2; });
      if (events.length < 2 || !full.length) {
        show("This session has no page snapshot yet: " + events.length + " events recorded.");
        return;
      }
      el.textContent = "";
      var width = Math.min(el.clientWidth || 960, 1200);
      // rrweb's replayer sandboxes the recorded page: its scripts never run here.
      var player = new rrwebPlayer({
        target: el,
        props: { events: events, width: width, height: Math.round(width * 0.56), autoPlay: false, showWarning: false },
      });
      player.goto(startAt, false);
      el.dataset.ready = "true";
      document.querySelectorAll("button.seek").forEach(function (b) {
        b.addEventListener("click", function () {
          player.goto(parseInt(b.dataset.offset, 10) || 0, false);
        });
      });
    })
    .catch(function (err) { show(String(err.message || err)); });
})();
