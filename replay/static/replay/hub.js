// The replay page's shared state: settings from #player, a tiny event hub, DOM and fetch helpers.
// Every other file in this folder talks through window.ReplayView; none touches another's DOM.
(function () {
  "use strict";
  var el = document.getElementById("player");
  if (!el) return;
  var handlers = {};
  var d = el.dataset;

  var V = {
    session: d.session,
    api: d.api, // "/api/sessions/<id>" or, on a shared page, "/share/<token>"
    link: d.link, // absolute URL of this page without query
    startedMs: parseInt(d.started || "0", 10) || 0,
    durationMs: parseInt(d.duration || "0", 10) || 0,
    startAt: parseInt(d.t || "0", 10) || 0,
    openCall: d.openCall || null,
    shared: d.shared === "true",
    now: 0, // the player's current time, ms from the session start

    on: function (name, fn) { (handlers[name] = handlers[name] || []).push(fn); },
    emit: function (name, data) {
      (handlers[name] || []).forEach(function (fn) { fn(data); });
    },
    seek: function (ms) { V.emit("seek", Math.max(0, Math.round(ms))); },

    // Builds an element; recorded strings only ever go in as text.
    make: function (tag, className, text) {
      var node = document.createElement(tag);
      if (className) node.className = className;
      if (text !== undefined && text !== null) node.textContent = String(text);
      return node;
    },

    getJSON: function (path) {
      return fetch(path, { credentials: "same-origin" }).then(function (r) {
        return r.json().catch(function () { return null; }).then(function (body) {
          if (!r.ok) {
            var message = body && body.error && body.error.message;
            var err = new Error(message || "HTTP " + r.status);
            err.status = r.status;
            throw err;
          }
          return body;
        });
      });
    },

    // "1:02.3": minutes, seconds and tenths from the session start.
    clock: function (ms) {
      var s = Math.max(0, ms || 0) / 1000;
      var m = Math.floor(s / 60);
      var rest = (s - m * 60).toFixed(1);
      return m + ":" + (rest < 10 ? "0" : "") + rest;
    },
  };
  V.on("time", function (ms) { V.now = ms; });
  window.ReplayView = V;
})();
