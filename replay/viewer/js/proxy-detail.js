// "What the proxy logged" under a failed call the Network panel builds itself (the server renders the same
// for the calls it lists: templates/_proxy_detail.html), from /calls' `proxy`.
import { make } from "./dom.js";

function ms(v) {
  if (v === null || v === undefined) return "—";
  return v < 1000 ? v + " ms" : (v / 1000).toFixed(1) + " s";
}

function line(t, label, value) {
  const tr = make("tr");
  tr.appendChild(make("th", null, label));
  tr.appendChild(make("td", null, value));
  t.appendChild(tr);
}

// Appends the section to `into` when the call has proxy evidence.
export function proxyDetail(proxy, into) {
  if (!proxy) return;
  const section = make("section", "proxy-logged");
  const h = make("h3", null, "What the proxy logged ");
  const bySession = proxy.matched_by === "session";
  h.appendChild(make("span", "matched matched-" + proxy.matched_by,
    bySession ? "matched by session" : "matched by time and URL, not by session"));
  section.appendChild(h);
  const t = make("table", "headers proxy");
  // nginx logs a reply it relayed as HTTP/0.9 (an upstream that sent no status line) with status 009.
  line(t, "Status", (proxy.status === 9 ? "009 (an HTTP/0.9 reply)" : proxy.status) + " · " + proxy.method + " " + (proxy.host || "") + proxy.uri);
  line(t, "Logged at", new Date(proxy.time_ms).toISOString().replace("T", " ").replace("Z", " UTC") +
    " · took " + ms(proxy.request_time_ms));
  const ups = proxy.upstreams || [];
  ups.forEach((u, i) => {
    // An address has a port (or is unix:...); nginx writes the group's name when it found no server to try.
    const group = u.addr && u.addr.indexOf(":") === -1;
    line(t, "Upstream" + (ups.length > 1 ? " " + (i + 1) : ""), group
      ? "group " + u.addr + ": no server tried (each marked failed)"
      : (u.addr || "—") + " · status " + (u.status === null ? "—" : u.status) + " · connect " + ms(u.connect_ms) +
        " · header " + ms(u.header_ms) + " · response " + ms(u.response_ms));
  });
  if (!ups.length) line(t, "Upstream", "none tried");
  line(t, "Request id", proxy.request_id || "—");
  section.appendChild(t);
  const errors = proxy.error_log || [];
  if (errors.length) {
    section.appendChild(make("h4", null, "Error log"));
    errors.forEach((e) => { section.appendChild(make("pre", "proxy-line level-" + e.level, e.line)); });
  } else section.appendChild(make("p", "hint", "No error-log line for this request."));
  into.appendChild(section);
}
