// The timeline under the player, in lanes so that no mark hides another: failed calls (a marker where
// each was sent, a bar to its answer), console errors and exceptions, then events and page loads. The
// server draws what the manifest holds; marks found later (Replay.track events) are added here. A marker
// seeks to its moment; a click elsewhere on the track (a bar too) seeks there; the playhead follows playback.
import { clock } from "./clock.js";

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
      items.forEach((item) => {
        const b = document.createElement("button");
        b.type = "button";
        b.className = "marker " + kind;
        b.dataset.offset = item.offset;
        b.style.left = (durationMs ? Math.min(100, (100 * item.offset) / durationMs) : 0) + "%";
        b.title = clock(item.offset) + " · " + item.label;
        b.setAttribute("aria-label", b.title);
        lane.appendChild(b);
      });
    },
  };
}
