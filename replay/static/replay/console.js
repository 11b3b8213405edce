// The Console panel: console calls of every level and uncaught errors from /console, with
// level filters and stack traces. Recorded text only ever goes in as text.
(function () {
  "use strict";
  var V = window.ReplayView;
  var ol = document.querySelector("ol.console");
  if (!V || !ol) return;
  var count = document.querySelector("[data-panel=console] .count");
  var filters = document.querySelectorAll("#panel-console .levels input[type=checkbox]");

  function row(entry) {
    var li = V.make("li", "row entry level-" + entry.level + (entry.kind === "exception" ? " exception" : ""));
    li.dataset.offset = entry.offset_ms;
    li.dataset.level = entry.level;
    var button = V.make("button", "seek");
    button.type = "button";
    button.appendChild(V.make("span", "time", V.clock(entry.offset_ms)));
    button.appendChild(V.make("span", "level", entry.kind === "exception" ? "uncaught" : entry.level));
    button.appendChild(V.make("span", "message", entry.message || "(empty)"));
    li.appendChild(button);
    if (entry.source) {
      var where = entry.source + (entry.line ? ":" + entry.line + (entry.column ? ":" + entry.column : "") : "");
      li.appendChild(V.make("p", "source", where));
    }
    if (entry.stack) {
      var details = V.make("details");
      details.appendChild(V.make("summary", null, "Stack trace"));
      details.appendChild(V.make("pre", "stack", entry.stack));
      li.appendChild(details);
    }
    return li;
  }

  function applyFilters() {
    var shown = {};
    filters.forEach(function (box) { shown[box.value] = box.checked; });
    Array.prototype.forEach.call(ol.children, function (li) {
      if (li.dataset.level) li.classList.toggle("off", shown[li.dataset.level] === false);
    });
    V.emit("rows", ol);
  }
  filters.forEach(function (box) { box.addEventListener("change", applyFilters); });

  V.getJSON(V.api + "/console").then(function (body) {
    ol.textContent = "";
    body.entries.forEach(function (entry) { ol.appendChild(row(entry)); });
    if (!body.entries.length) ol.appendChild(V.make("li", "none", "Nothing was logged."));
    if (count) count.textContent = body.entries.length;
    applyFilters();
  }).catch(function (err) {
    ol.textContent = "";
    ol.appendChild(V.make("li", "error", "The console could not be loaded: " + err.message));
  });
})();
