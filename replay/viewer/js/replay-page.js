// Entry of the replay page's bundle (viewer.js, built by js-snippet/build.mjs; session.html loads it).
// Each part is started here with what it needs, so what depends on what is written down once.
import { createClipboard } from "./clipboard.js";
import { startConsole } from "./console.js";
import { startCopyButtons } from "./copy.js";
import { startNetwork } from "./network.js";
import { startPlayer } from "./player.js";
import { startRows } from "./rows.js";
import { readSettings } from "./settings.js";
import { startShare } from "./share.js";
import { startTimeline } from "./timeline.js";
import { startTracked } from "./tracked.js";

// "▶ Play from …" above the player, on a page opened at a failed call: plays the lead-up to it.
function startPlayLead(playback) {
  const button = document.getElementById("play-lead");
  if (button) button.addEventListener("click", () => playback.playFrom(parseInt(button.dataset.from, 10) || 0));
}

function main() {
  const el = document.getElementById("player");
  if (!el) return;
  const settings = readSettings(el);
  const copy = createClipboard();
  const playback = startPlayer(el, settings);
  const track = document.querySelector("#timeline .track");
  const timeline = track ? startTimeline(track, settings.durationMs, playback) : null;
  const rows = startRows(playback);
  const calls = startNetwork(settings, rows);
  startConsole(settings.api, rows);
  startTracked(settings.api, rows, timeline);
  const share = startShare(settings.session, playback, copy);
  startCopyButtons(settings, playback, copy, calls, share);
  startPlayLead(playback);

  // A handle for the browser console and the end-to-end tests; no module reads it.
  window.ReplayView = {
    get player() { return playback.player; },
    get now() { return playback.now; },
    seek: (ms) => playback.seek(ms),
  };
}

main();
