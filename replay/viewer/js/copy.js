// "Copy link at this moment" and "Copy for ticket" (Markdown about the failed call in question).
import { clock } from "./clock.js";

function linkAt(settings, ms) { return settings.link + "?t=" + Math.round(ms); }

function utc(ms) {
  return new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

// The chosen failed call's row (by id), else the first one.
function failedCall(id) {
  const rows = document.querySelectorAll("ol.calls li[data-call-id]");
  for (let i = 0; i < rows.length; i++) if (rows[i].dataset.callId === id) return rows[i];
  return rows[0] || null;
}

// The Markdown for a ticket: a link that opens at the failed call, who, where and when.
function ticket(settings, now, callId) {
  const row = failedCall(callId);
  const lines = [];
  if (!row) {
    lines.push("**Session replay:** " + linkAt(settings, now));
    lines.push("- **User:** " + settings.user);
    lines.push("- **Page:** " + (settings.page || "unknown"));
    lines.push("- No failed calls in this session.");
    return lines.join("\n");
  }
  const c = row.dataset;
  const offset = parseInt(c.offset, 10) || 0;
  // Call ids are "window:seq:n"; a colon needs no escaping in a query.
  lines.push("**Session replay:** " + settings.link + "?call=" + encodeURIComponent(c.callId).replace(/%3A/g, ":"));
  lines.push("- **User:** " + settings.user);
  lines.push("- **Page:** " + (c.page || settings.page || "unknown"));
  lines.push("- **Failed call:** `" + c.method + " " + c.url + "` → **" + c.status + "**");
  lines.push("- **When:** " + utc(parseInt(c.ts, 10) || settings.startedMs + offset) + " (" + clock(offset) + " into the session)");
  return lines.join("\n");
}

// settings: readSettings's; playback: startPlayer's; copy: createClipboard's; calls: startNetwork's.
export function startCopyButtons(settings, playback, copy, calls) {
  const linkButton = document.getElementById("copy-link");
  const ticketButton = document.getElementById("copy-ticket");
  if (!linkButton || !ticketButton) return;
  linkButton.addEventListener("click", () => {
    copy(linkAt(settings, playback.now), "Link at " + clock(playback.now));
  });
  ticketButton.addEventListener("click", () => {
    copy(ticket(settings, playback.now, calls.selectedCall()), "Markdown for the ticket");
  });
}
