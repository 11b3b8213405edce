// Entry of the exported file's bundle (export-viewer.js, inlined by export.html): replays the
// events inlined beside it, from file:// with no network. Opens paused where the first failed call
// failed (#player's data-t); "▶ Play from …" plays the lead-up; every listed row seeks.
import { hasFullSnapshot } from "./events.js";
import { createPlayer } from "./vendor-player.js";

const MAX_WIDTH_PX = 1100;

function main() {
  const el = document.getElementById("player");
  const events = JSON.parse(document.getElementById("replay-events").textContent);
  if (events.length < 2 || !hasFullSnapshot(events)) {
    el.textContent = "This recording has no page snapshot: " + events.length + " events.";
    return;
  }
  el.textContent = "";
  const player = createPlayer(el, events, MAX_WIDTH_PX);
  // Seek once the file has loaded: in Chromium, a seek made while it still parsed kept its load event
  // from ever firing.
  const open = () => { player.goto(parseInt(el.dataset.t || "0", 10) || 0, false); };
  if (document.readyState === "complete") open(); else window.addEventListener("load", open);
  document.querySelectorAll("button[data-offset]").forEach((b) => {
    b.addEventListener("click", () => { player.goto(parseInt(b.dataset.offset, 10) || 0, false); });
  });
  const lead = document.getElementById("play-lead");
  if (lead) lead.addEventListener("click", () => { player.goto(parseInt(lead.dataset.from, 10) || 0, true); });
  el.dataset.ready = "true";
  // A handle for the end-to-end tests, as the replay page has.
  window.ReplayView = { player };
}

main();
