// The Console panel: console calls of every level and uncaught errors from /console, with
// level filters and stack traces. Recorded text only ever goes in as text.
import { clock } from "./clock.js";
import { make } from "./dom.js";
import { getJSON } from "./http.js";

function row(entry) {
  const li = make("li", "row entry level-" + entry.level + (entry.kind === "exception" ? " exception" : ""));
  li.dataset.offset = entry.offset_ms;
  li.dataset.level = entry.level;
  const button = make("button", "seek");
  button.type = "button";
  button.appendChild(make("span", "time", clock(entry.offset_ms)));
  button.appendChild(make("span", "level", entry.kind === "exception" ? "uncaught" : entry.level));
  button.appendChild(make("span", "message", entry.message || "(empty)"));
  li.appendChild(button);
  if (entry.source) {
    const where = entry.source + (entry.line ? ":" + entry.line + (entry.column ? ":" + entry.column : "") : "");
    li.appendChild(make("p", "source", where));
  }
  if (entry.stack) {
    const details = make("details");
    details.appendChild(make("summary", null, "Stack trace"));
    details.appendChild(make("pre", "stack", entry.stack));
    li.appendChild(details);
  }
  return li;
}

// api: the session's API base; rows: startRows's.
export function startConsole(api, rows) {
  const ol = document.querySelector("ol.console");
  if (!ol) return;
  const count = document.querySelector("[data-panel=console] .count");
  const filters = document.querySelectorAll("#panel-console .levels input[type=checkbox]");

  function applyFilters() {
    const shown = {};
    filters.forEach((box) => { shown[box.value] = box.checked; });
    Array.prototype.forEach.call(ol.children, (li) => {
      if (li.dataset.level) li.classList.toggle("off", shown[li.dataset.level] === false);
    });
    rows.changed(ol);
  }
  filters.forEach((box) => { box.addEventListener("change", applyFilters); });

  getJSON(api + "/console").then((body) => {
    ol.textContent = "";
    body.entries.forEach((entry) => { ol.appendChild(row(entry)); });
    if (!body.entries.length) ol.appendChild(make("li", "none", "Nothing was logged."));
    if (count) count.textContent = body.entries.length;
    applyFilters();
  }).catch((err) => {
    ol.textContent = "";
    ol.appendChild(make("li", "error", "The console could not be loaded: " + err.message));
  });
}
