// Entry of the exported file's bundle (export-viewer.js, inlined by export.html): replays the
// events inlined beside it, from file:// with no network.
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
  document.querySelectorAll("button[data-offset]").forEach((b) => {
    b.addEventListener("click", () => { player.goto(parseInt(b.dataset.offset, 10) || 0, false); });
  });
  el.dataset.ready = "true";
}

main();
