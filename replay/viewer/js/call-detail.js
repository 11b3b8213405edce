// A call's timing, query parameters and request body, for the rows the Network panel builds itself
// (the server renders the same for failed calls: templates/_call_detail.html).
import { make } from "./dom.js";

const PHASES = [["dns", "DNS lookup"], ["connect", "Connect"], ["tls", "TLS handshake"], ["ttfb", "Waiting (TTFB)"], ["download", "Download"]];

function waterfall(timing) {
  const known = PHASES.filter((p) => typeof timing[p[0]] === "number");
  const total = known.reduce((sum, p) => sum + timing[p[0]], 0);
  const t = make("table", "waterfall");
  let at = 0;
  known.forEach(([key, label]) => {
    const tr = make("tr");
    tr.appendChild(make("th", null, label));
    const track = make("td", "track");
    const bar = make("span", "phase");
    bar.style.marginLeft = (total ? (100 * at) / total : 0) + "%";
    bar.style.width = (total ? (100 * timing[key]) / total : 0) + "%";
    track.appendChild(bar);
    tr.appendChild(track);
    tr.appendChild(make("td", "ms", timing[key].toFixed(1) + " ms"));
    t.appendChild(tr);
    at += timing[key];
  });
  const sum = make("tr", "sum");
  sum.appendChild(make("th", null, "Phases"));
  sum.appendChild(make("td"));
  sum.appendChild(make("td", "ms", total.toFixed(1) + " ms"));
  t.appendChild(sum);
  return known.length ? t : null;
}

// Appends to `into` what the call has of these.
export function callDetail(call, into) {
  if (call.recovered) {
    into.appendChild(make("p", "recovered-note", "Recovered from the browser's resource timing: the call started before the " +
      "snippet could watch fetch/XHR, so its method, headers and bodies are unknown."));
  }
  const w = call.timing && waterfall(call.timing);
  if (w) {
    into.appendChild(make("h3", null, "Timing"));
    into.appendChild(w);
  }
  if (call.query && call.query.length) {
    into.appendChild(make("h3", null, "Query parameters"));
    const t = make("table", "headers query");
    call.query.forEach((q) => {
      const tr = make("tr");
      tr.appendChild(make("th", null, q.name));
      const td = make("td");
      if (q.masked) {
        td.appendChild(make("span", "masked", q.value));
        td.appendChild(document.createTextNode(" "));
        td.appendChild(make("span", "tag", "masked"));
      } else td.textContent = q.value;
      tr.appendChild(td);
      t.appendChild(tr);
    });
    into.appendChild(t);
  }
  if (typeof call.request_body === "string") {
    const h = make("h3", null, "Request body ");
    if (call.request_body_scrubbed) h.appendChild(make("span", "tag", "scrubbed"));
    if (call.request_body_truncated) h.appendChild(document.createTextNode(" (cut)"));
    into.appendChild(h);
    into.appendChild(make("pre", "request-body", call.request_body));
  }
}
