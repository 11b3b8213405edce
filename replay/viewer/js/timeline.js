// The timeline under the player: markers drawn by the server (failed calls, errors, page loads)
// seek to their moment; a click elsewhere on the track seeks there; the playhead follows playback.

// track: "#timeline .track"; durationMs: the session's length; playback: startPlayer's.
export function startTimeline(track, durationMs, playback) {
  const head = track.querySelector(".playhead");

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
}
