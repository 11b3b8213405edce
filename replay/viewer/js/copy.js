// "Copy link at this moment" and "Copy for ticket": Markdown about the failed call in question, with
// its diagnosis, its times, the session id to search the proxy's logs for and, when asked, a share link.
import { clock } from "./clock.js";

function linkAt(settings, ms) { return settings.link + "?t=" + Math.round(ms); }

// Call ids are "window:seq:n"; a colon needs no escaping in a query.
function callQuery(id) { return "?call=" + encodeURIComponent(id).replace(/%3A/g, ":"); }

function utc(ms) {
  return new Date(ms).toISOString().replace("T", " ").replace(/Z$/, " UTC");
}

function took(ms) {
  return ms < 1000 ? Math.round(ms) + " ms" : (ms / 1000).toFixed(1) + " s";
}

function text(row, selector) {
  const el = row.querySelector(selector);
  return el ? el.textContent.replace(/\s+/g, " ").trim() : "";
}

// The chosen failed call's row (by id), else the failed call sent nearest the moment shown (`now`, ms
// into the session): what the developer is looking at, as the share link opens there too.
function failedCall(id, now) {
  const rows = Array.from(document.querySelectorAll("ol.calls li.failed[data-call-id]"));
  const chosen = rows.find((r) => r.dataset.callId === id);
  if (chosen) return chosen;
  let nearest = null;
  let gap = Infinity;
  rows.forEach((r) => {
    const d = Math.abs((parseInt(r.dataset.offset, 10) || 0) - now);
    if (d < gap) { gap = d; nearest = r; }
  });
  return nearest;
}

// The Markdown for a ticket: the diagnosis, a link that opens at the failed call, who, where and when.
// shared: a share link made for this ticket ({url, expires_ms}) or null.
function ticket(settings, now, row, shared) {
  const lines = [];
  const sharedLine = (url) => {
    if (shared) lines.push("**Share link (no account needed):** " + url + " (until " + utc(shared.expires_ms).slice(0, 16) + " UTC)");
  };
  if (!row) {
    lines.push("**Session replay:** " + linkAt(settings, now));
    sharedLine(shared && shared.url);
    lines.push("- **User:** " + settings.user);
    lines.push("- **Page:** " + (settings.page || "unknown"));
    lines.push("- **Session id:** `" + settings.session + "`");
    lines.push("- No failed calls in this session.");
    return lines.join("\n");
  }
  const c = row.dataset;
  const sent = parseInt(c.sent, 10) || parseInt(c.ts, 10) || settings.startedMs + (parseInt(c.offset, 10) || 0);
  const duration = c.duration ? parseFloat(c.duration) : null;
  const headline = text(row, ".diag-title");
  if (headline) lines.push("**" + headline + "**", "");
  lines.push("**Session replay:** " + settings.link + callQuery(c.callId));
  sharedLine(shared && shared.url + callQuery(c.callId));
  lines.push("- **Failed call:** `" + (c.method ? c.method + " " : "") + c.url + "` → **" + c.status + "**");
  lines.push("- **Timing:** sent " + utc(sent) + " (" + clock(parseInt(c.offset, 10) || 0) + " into the session)" +
    (duration !== null ? ", " + (c.answeredWord || "answered").toLowerCase() + " after " + took(duration) : ""));
  const summary = text(row, ".diag-summary");
  if (summary) lines.push("- **Diagnosis:** " + summary);
  lines.push("- **User:** " + settings.user);
  lines.push("- **Page:** " + (c.page || settings.page || "unknown"));
  lines.push("- **Session id:** `" + settings.session + "` (search the proxy's logs for it: same-origin calls carry it in the `X-Replay-Session` header)");
  return lines.join("\n");
}

// settings: readSettings's; playback: startPlayer's; copy: createClipboard's; calls: startNetwork's;
// share: startShare's (null on a shared page).
export function startCopyButtons(settings, playback, copy, calls, share) {
  const linkButton = document.getElementById("copy-link");
  const ticketButton = document.getElementById("copy-ticket");
  const withLink = document.getElementById("ticket-share");
  if (!linkButton || !ticketButton) return;
  linkButton.addEventListener("click", () => {
    copy(linkAt(settings, playback.now), "Link at " + clock(playback.now));
  });
  ticketButton.addEventListener("click", () => {
    const now = playback.now;
    const row = failedCall(calls.selectedCall(), now);
    if (!(share && withLink && withLink.checked)) return copy(ticket(settings, now, row, null), "Markdown for the ticket");
    ticketButton.disabled = true;
    const at = row ? parseInt(row.dataset.at, 10) || 0 : Math.round(now);
    share.create({ t_ms: at }).then((made) => {
      return copy(ticket(settings, now, row, made), "Markdown for the ticket (with a share link)");
    }, (err) => {
      return copy(ticket(settings, now, row, null), "Markdown for the ticket (no share link: " + err.message + ")");
    }).then(() => { ticketButton.disabled = false; });
  });
}
