// The Network panel: every call of the session from /calls, in time order. Failed calls keep
// the rows the server rendered (with their diagnosis cards); the others are built here, as text.
import { clock } from "./clock.js";
import { make } from "./dom.js";
import { getJSON } from "./http.js";
import { callDetail } from "./call-detail.js";
import { proxyDetail } from "./proxy-detail.js";
import { serverDetail } from "./server-detail.js";

// "2026-11-22 10:00:00.123 UTC", as the server writes a call's times.
function utc(ms) { return new Date(ms).toISOString().replace("T", " ").replace("Z", " UTC"); }

function table(rows) {
  const t = make("table", "headers");
  rows.forEach((r) => {
    if (r[1] === null || r[1] === undefined || r[1] === "") return;
    const tr = make("tr");
    tr.appendChild(make("th", null, r[0]));
    tr.appendChild(make("td", null, r[1]));
    t.appendChild(tr);
  });
  return t;
}

function headers(title, h, into) {
  const names = Object.keys(h || {});
  if (!names.length) return;
  into.appendChild(make("h3", null, title));
  into.appendChild(table(names.map((k) => [k, h[k]])));
}

function status(call) {
  const cls = call.status ? "s" + Math.floor(call.status / 100) : "s0";
  return make("span", "status " + cls, call.status || call.error || "no response");
}

function row(call) {
  const li = make("li", "row call" + (call.failed ? " failed" : ""));
  li.dataset.offset = call.offset_ms;
  const button = make("button", "seek");
  button.type = "button";
  button.appendChild(make("span", "time", clock(call.offset_ms)));
  button.appendChild(status(call));
  button.appendChild(make("span", "method", call.method || "—"));
  button.appendChild(make("span", "url", call.url));
  if (call.duration_ms !== null) button.appendChild(make("span", "took", Math.round(call.duration_ms) + " ms"));
  li.appendChild(button);
  const details = make("details");
  details.appendChild(make("summary", null, (call.status_text || (call.failed ? "Failed" : "OK")) + " · sent " +
    clock(call.offset_ms) + ", " + (call.status ? "answered " : "failed ") + clock(call.end_offset_ms) +
    (call.initiator ? " · " + call.initiator : "")));
  const d = call.diagnosis;
  if (d) {
    const card = make("section", "diagnosis" + (d.confirmed ? " confirmed" : ""));
    card.appendChild(make("p", "diag-title", d.title));
    card.appendChild(make("p", "diag-summary", d.summary));
    details.appendChild(card);
  }
  proxyDetail(call.proxy, details);
  serverDetail(call.server, details);
  const sent = call.start_ms !== null ? call.start_ms : call.ts;
  const answered = call.end_ms !== null ? call.end_ms : call.ts;
  details.appendChild(table([
    ["Method", call.method || "unknown (recovered from resource timing)"], ["URL", call.url], ["Status", (call.status || call.error || "no response") + " " + (call.status_text || "")],
    ["Sent at", clock(call.offset_ms) + (sent ? " · " + utc(sent) : "")],
    [(call.status ? "Answered" : "Failed") + " at", clock(call.end_offset_ms) + (answered ? " · " + utc(answered) : "")],
    ["Duration", call.duration_ms !== null ? call.duration_ms.toFixed(1) + " ms" : null],
    ["Initiator", call.initiator], ["Response size", call.response_size !== null ? call.response_size + " bytes" : null],
  ]));
  callDetail(call, details);
  headers("Request headers", call.request_headers, details);
  headers("Response headers", call.response_headers, details);
  if (call.response_body) {
    details.appendChild(make("h3", null, "Response body" + (call.response_body_truncated ? " (cut)" : "")));
    details.appendChild(make("pre", "body", call.response_body));
  }
  if (!call.failed && !call.recovered && !call.request_headers) details.appendChild(make("p", "hint", "Headers and bodies are recorded for failed calls only."));
  li.appendChild(details);
  return li;
}

// settings: readSettings's (api, openCall); rows: startRows's. Returns { selectedCall() }:
// the id of the failed call a ticket is about, the one last opened or sought to (or null).
export function startNetwork(settings, rows) {
  const ol = document.querySelector("ol.calls");
  let selected = settings.openCall;
  const calls = { selectedCall: () => selected };
  if (!ol) return calls;
  const note = document.getElementById("network-note");
  const count = document.querySelector("[data-panel=network] .count");

  function rendered() {
    const map = {};
    ol.querySelectorAll("li[data-call-id]").forEach((li) => { map[li.dataset.callId] = li; });
    return map;
  }

  function showOpened() {
    const opened = settings.openCall && rendered()[settings.openCall];
    if (opened) rows.hold(opened);
  }

  ol.addEventListener("toggle", (e) => {
    const li = e.target.closest && e.target.closest("li[data-call-id]");
    if (li && e.target.open) selected = li.dataset.callId;
  }, true);
  ol.addEventListener("click", (e) => {
    const li = e.target.closest(".seek") && e.target.closest("li[data-call-id]");
    if (li) selected = li.dataset.callId;
  });

  showOpened();
  getJSON(settings.api + "/calls").then((body) => {
    const known = rendered();
    const list = body.calls.map((call) => {
      const li = call.id && known[call.id];
      if (li) delete known[call.id];
      return li || row(call);
    });
    Object.keys(known).forEach((id) => { list.push(known[id]); });
    list.sort((a, b) => a.dataset.offset - b.dataset.offset);
    ol.textContent = "";
    list.forEach((li) => { ol.appendChild(li); });
    if (!list.length) ol.appendChild(make("li", "none", "No calls recorded."));
    const failed = body.calls.filter((c) => c.failed).length;
    if (count) count.textContent = body.calls.length + (failed ? " · " + failed + " failed" : "");
    if (note) note.textContent = body.truncated ? "Only the first " + body.calls.length + " calls are listed." : "";
    rows.changed(ol);
    showOpened();
  }).catch((err) => {
    if (note) note.textContent = "Only the failed calls are listed: the others could not be loaded (" + err.message + ").";
  });
  return calls;
}
