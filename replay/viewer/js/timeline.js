// The timeline under the player, in lanes so that no mark hides another: failed calls (a marker where
// each was sent, a bar to its answer), console errors and exceptions, then events and page loads. The
// server draws what the manifest holds; marks found later (Replay.track events) are added here. A marker
// seeks to its moment; a click elsewhere on the track (a bar too) seeks there; the playhead follows playback.
import { clock } from "./clock.js";

// As replay/viewer/session_view.py STACK_PCT: marks closer than this (percent of the session) stack.
const STACK_PCT = 0.6;

// track: "#timeline .track"; durationMs: the session's length; playback: startPlayer's.
// Returns { mark(kind, items) }: items [{offset, label}] become markers of that kind in the events lane.
export function startTimeline(track, durationMs, playback) {
  const head = track.querySelector(".playhead");
  const lane = track.querySelector(".lane.events");

  track.addEventListener("click", (e) => {
    const marker = e.target.closest(".marker");
    if (marker) return playback.seek(parseInt(marker.dataset.offset, 10) || 0);
    const box = track.getBoundingClientRect();
    if (!box.width || !durationMs) return;
    playback.seek(Math.min(1, Math.max(0, (e.clientX - box.left) / box.width)) * durationMs);
  });

  playback.onTime((ms) => {
    if (!head) return;
    const pct = durationMs ? Math.min(100, (100 * ms) / durationMs) : 0;
    head.style.left = pct + "%";
  });

  return {
    mark(kind, items) {
      if (!lane) return;
      const pct = (offset) => (durationMs ? Math.min(100, (100 * offset) / durationMs) : 0);
      // Items at (nearly) one place make one mark that says how many, as the server's marks do.
      const groups = [];
      items.slice().sort((a, b) => a.offset - b.offset).forEach((item) => {
        const last = groups[groups.length - 1];
        if (last && pct(item.offset) - pct(last[0].offset) < STACK_PCT) last.push(item);
        else groups.push([item]);
      });
      groups.forEach((group) => {
        const first = group[0];
        const b = document.createElement("button");
        b.type = "button";
        b.className = "marker " + kind + (group.length > 1 ? " many" : "");
        b.dataset.offset = first.offset;
        const half = group.length > 1 ? 7 : 2; // a mark at either end stays whole
        b.style.left = "clamp(" + half + "px, " + pct(first.offset) + "%, calc(100% - " + half + "px))";
        const labels = group.slice(0, 6).map((item) => item.label).join("; ");
        const more = group.length > 6 ? "; and " + (group.length - 6) + " more" : "";
        b.title = clock(first.offset) + " · " + (group.length > 1 ? group.length + " at once: " : "") + labels + more;
        if (group.length > 1) b.textContent = String(group.length);
        b.setAttribute("aria-label", b.title);
        lane.appendChild(b);
      });
    },
  };
}
