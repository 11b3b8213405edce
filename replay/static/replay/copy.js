// "Copy link at this moment" and "Copy for ticket" (Markdown about the failed call in question).
(function () {
  "use strict";
  var V = window.ReplayView;
  var linkButton = document.getElementById("copy-link");
  var ticketButton = document.getElementById("copy-ticket");
  if (!V || !V.copy || !linkButton || !ticketButton) return;
  var facts = document.getElementById("player").dataset;

  function utc(ms) {
    return new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
  }

  function linkAt(ms) { return V.link + "?t=" + Math.round(ms); }

  // The opened or last chosen failed call, else the first one.
  function failedCall() {
    var rows = document.querySelectorAll("ol.calls li[data-call-id]");
    for (var i = 0; i < rows.length; i++) if (rows[i].dataset.callId === V.selectedCall) return rows[i];
    return rows[0] || null;
  }

  V.ticket = function () {
    var row = failedCall();
    var lines = [];
    if (!row) {
      lines.push("**Session replay:** " + linkAt(V.now));
      lines.push("- **User:** " + facts.user);
      lines.push("- **Page:** " + (facts.page || "unknown"));
      lines.push("- No failed calls in this session.");
      return lines.join("\n");
    }
    var c = row.dataset;
    var offset = parseInt(c.offset, 10) || 0;
    // Call ids are "window:seq:n"; a colon needs no escaping in a query.
    lines.push("**Session replay:** " + V.link + "?call=" + encodeURIComponent(c.callId).replace(/%3A/g, ":"));
    lines.push("- **User:** " + facts.user);
    lines.push("- **Page:** " + (c.page || facts.page || "unknown"));
    lines.push("- **Failed call:** `" + c.method + " " + c.url + "` → **" + c.status + "**");
    lines.push("- **When:** " + utc(parseInt(c.ts, 10) || V.startedMs + offset) + " (" + V.clock(offset) + " into the session)");
    return lines.join("\n");
  };

  linkButton.addEventListener("click", function () { V.copy(linkAt(V.now), "Link at " + V.clock(V.now)); });
  ticketButton.addEventListener("click", function () { V.copy(V.ticket(), "Markdown for the ticket"); });
})();
