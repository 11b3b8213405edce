// The Network panel: every call of the session from /calls, in time order. Failed calls keep
// the rows the server rendered (with their diagnosis cards); the others are built here, as text.
(function () {
  "use strict";
  var V = window.ReplayView;
  var ol = document.querySelector("ol.calls");
  if (!V || !ol) return;
  var note = document.getElementById("network-note");
  var count = document.querySelector("[data-panel=network] .count");

  function table(rows) {
    var t = V.make("table", "headers");
    rows.forEach(function (r) {
      if (r[1] === null || r[1] === undefined || r[1] === "") return;
      var tr = V.make("tr");
      tr.appendChild(V.make("th", null, r[0]));
      tr.appendChild(V.make("td", null, r[1]));
      t.appendChild(tr);
    });
    return t;
  }

  function headers(title, h, into) {
    var names = Object.keys(h || {});
    if (!names.length) return;
    into.appendChild(V.make("h3", null, title));
    into.appendChild(table(names.map(function (k) { return [k, h[k]]; })));
  }

  function status(call) {
    var cls = call.status ? "s" + Math.floor(call.status / 100) : "s0";
    return V.make("span", "status " + cls, call.status || call.error || "no response");
  }

  function row(call) {
    var li = V.make("li", "row call" + (call.failed ? " failed" : ""));
    li.dataset.offset = call.offset_ms;
    var button = V.make("button", "seek");
    button.type = "button";
    button.appendChild(V.make("span", "time", V.clock(call.offset_ms)));
    button.appendChild(status(call));
    button.appendChild(V.make("span", "method", call.method));
    button.appendChild(V.make("span", "url", call.url));
    if (call.duration_ms !== null) button.appendChild(V.make("span", "took", Math.round(call.duration_ms) + " ms"));
    li.appendChild(button);
    var details = V.make("details");
    details.appendChild(V.make("summary", null, (call.status_text || (call.failed ? "Failed" : "OK")) + " · " + (call.initiator || "")));
    details.appendChild(table([
      ["Method", call.method], ["URL", call.url], ["Status", (call.status || call.error || "no response") + " " + (call.status_text || "")],
      ["Started", V.clock(call.offset_ms) + (call.ts ? " · " + new Date(call.ts).toISOString() : "")],
      ["Duration", call.duration_ms !== null ? call.duration_ms.toFixed(1) + " ms" : null],
      ["Initiator", call.initiator], ["Response size", call.response_size !== null ? call.response_size + " bytes" : null],
    ]));
    headers("Request headers", call.request_headers, details);
    headers("Response headers", call.response_headers, details);
    if (call.response_body) {
      details.appendChild(V.make("h3", null, "Response body" + (call.response_body_truncated ? " (cut)" : "")));
      details.appendChild(V.make("pre", "body", call.response_body));
    }
    if (!call.failed && !call.request_headers) details.appendChild(V.make("p", "hint", "Headers and bodies are recorded for failed calls only."));
    li.appendChild(details);
    return li;
  }

  function rendered() {
    var map = {};
    ol.querySelectorAll("li[data-call-id]").forEach(function (li) { map[li.dataset.callId] = li; });
    return map;
  }

  function showOpened() {
    var opened = V.openCall && rendered()[V.openCall];
    if (opened) V.hold(opened);
  }

  V.selectedCall = V.openCall;
  // The failed call a ticket is about: the one last opened or sought to.
  ol.addEventListener("toggle", function (e) {
    var li = e.target.closest && e.target.closest("li[data-call-id]");
    if (li && e.target.open) V.selectedCall = li.dataset.callId;
  }, true);
  ol.addEventListener("click", function (e) {
    var li = e.target.closest(".seek") && e.target.closest("li[data-call-id]");
    if (li) V.selectedCall = li.dataset.callId;
  });

  if (V.hold) showOpened();
  V.getJSON(V.api + "/calls").then(function (body) {
    var known = rendered();
    var rows = body.calls.map(function (call) {
      var li = call.id && known[call.id];
      if (li) delete known[call.id];
      return li || row(call);
    });
    Object.keys(known).forEach(function (id) { rows.push(known[id]); });
    rows.sort(function (a, b) { return a.dataset.offset - b.dataset.offset; });
    ol.textContent = "";
    rows.forEach(function (li) { ol.appendChild(li); });
    if (!rows.length) ol.appendChild(V.make("li", "none", "No calls recorded."));
    var failed = body.calls.filter(function (c) { return c.failed; }).length;
    if (count) count.textContent = body.calls.length + (failed ? " · " + failed + " failed" : "");
    if (note) note.textContent = body.truncated ? "Only the first " + body.calls.length + " calls are listed." : "";
    V.emit("rows", ol);
    showOpened();
  }).catch(function (err) {
    if (note) note.textContent = "Only the failed calls are listed: the others could not be loaded (" + err.message + ").";
  });
})();
