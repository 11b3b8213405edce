// "What the app raised" under a failed call the Network panel builds itself (the server renders the same for the
// calls it lists: templates/_server_detail.html), from /calls' `server`.
import { make } from "./dom.js";

function utc(ms) {
  return new Date(ms).toISOString().replace("T", " ").replace("Z", " UTC");
}

// An exception's stack marks the frame it raised in (the last); an in-flight record's the frame it was at.
function stack(exc, into, at) {
  const ol = make("ol", "app-stack");
  if (exc.frames_omitted) ol.appendChild(make("li", "hint", "… " + exc.frames_omitted + " outer frames not sent"));
  const frames = exc.stack || [];
  const marked = at === undefined ? frames.length - 1 : at;
  frames.forEach((f, i) => {
    const li = make("li", i === marked ? "raised" : null);
    li.appendChild(make("span", "frame-where", f.file + ":" + (f.line === null ? "?" : f.line)));
    li.appendChild(document.createTextNode(" in "));
    li.appendChild(make("b", null, f.function));
    if (f.code) li.appendChild(make("pre", "frame-code", f.code));
    ol.appendChild(li);
  });
  into.appendChild(ol);
}

// The app's record of a request it was still on when its process ended (an in_flight event the proxy's 502 joined).
function inFlight(sv, into) {
  const ms = sv.elapsed_ms || 0;
  const at = sv.at_frame === null || sv.at_frame === undefined ? null : (sv.stack || [])[sv.at_frame];
  const p = make("p", "app-in-flight", "The app was still working on this request when its process ended: ");
  p.appendChild(make("b", null, (ms >= 1000 ? (ms / 1000).toFixed(1) + " s" : Math.round(ms) + " ms") + " in"));
  if (at) {
    p.appendChild(document.createTextNode(", at "));
    p.appendChild(make("b", null, at.function));
    p.appendChild(document.createTextNode(" ("));
    p.appendChild(make("span", "frame-where", at.file + ":" + (at.line === null ? "?" : at.line)));
    p.appendChild(document.createTextNode(")"));
  }
  into.appendChild(p);
  stack(sv, into, sv.at_frame === null ? -1 : sv.at_frame);
}

function row(t, label, value) {
  const tr = make("tr");
  tr.appendChild(make("th", null, label));
  tr.appendChild(make("td", null, value));
  t.appendChild(tr);
}

// Appends the section to `into` when the call has the app's event.
export function serverDetail(sv, into) {
  if (!sv) return;
  const section = make("section", "app-raised");
  const h = make("h3", null, "What the app raised ");
  h.appendChild(make("span", "matched matched-" + sv.matched_by,
    sv.matched_by === "session" ? "matched by session" : "matched by time and URL, not by session"));
  section.appendChild(h);
  const exc = sv.exception;
  if (sv.type === "in_flight") inFlight(sv, section);
  else if (exc) {
    const p = make("p", "app-exception");
    p.appendChild(make("b", null, exc.type));
    if (exc.message) p.appendChild(document.createTextNode(": " + exc.message));
    section.appendChild(p);
    stack(exc, section);
  } else section.appendChild(make("p", "hint", "The app answered " + sv.status + " without an exception."));
  const logs = sv.logs || [];
  if (logs.length) {
    section.appendChild(make("h4", null, "Log records (WARNING and above)"));
    if (sv.logs_omitted) section.appendChild(make("p", "hint", sv.logs_omitted + " earlier records not sent."));
    logs.forEach((r) => {
      section.appendChild(make("pre", "app-log level-" + String(r.level).toLowerCase(),
        utc(r.time_ms) + " " + r.level + " " + (r.logger || "") + ": " + r.message));
    });
  }
  const t = make("table", "headers app");
  row(t, "Request", sv.method + " " + sv.url + " · " + (sv.type === "in_flight"
    ? "no answer: still in flight after " + Math.round(sv.elapsed_ms || 0) + " ms"
    : "answered " + sv.status +
      (sv.duration_ms !== null && sv.duration_ms !== undefined ? " after " + Math.round(sv.duration_ms) + " ms" : "")));
  row(t, "Started at", utc(sv.time_ms));
  row(t, "Service", (sv.service || "—") + " · release " + (sv.release || "—"));
  section.appendChild(t);
  into.appendChild(section);
}
