// The exported file's player (inlined into it; runs from file:// with no network).
(function () {
  "use strict";
  var el = document.getElementById("player");
  var events = JSON.parse(document.getElementById("replay-events").textContent);
  if (events.length < 2 || !events.some(function (e) { return e.type === 2; })) {
    el.textContent = "This recording has no page snapshot: " + events.length + " events.";
    return;
  }
  el.textContent = "";
  var width = Math.max(320, Math.min(el.clientWidth - 16, 1100));
  var player = new rrwebPlayer({
    target: el,
    props: { events: events, width: width, height: Math.round(width * 0.56), autoPlay: false,
             showWarning: false, mouseTail: false },
  });
  document.querySelectorAll("button[data-offset]").forEach(function (b) {
    b.addEventListener("click", function () { player.goto(parseInt(b.dataset.offset, 10) || 0, false); });
  });
  el.dataset.ready = "true";
})();
