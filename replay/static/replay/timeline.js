// The timeline under the player: markers drawn by the server (failed calls, errors, page loads)
// seek to their moment; a click elsewhere on the track seeks there; the playhead follows playback.
(function () {
  "use strict";
  var V = window.ReplayView;
  var track = document.querySelector("#timeline .track");
  if (!V || !track) return;
  var head = track.querySelector(".playhead");

  track.addEventListener("click", function (e) {
    var marker = e.target.closest(".marker");
    if (marker) return V.seek(parseInt(marker.dataset.offset, 10) || 0);
    var box = track.getBoundingClientRect();
    if (!box.width || !V.durationMs) return;
    V.seek(Math.min(1, Math.max(0, (e.clientX - box.left) / box.width)) * V.durationMs);
  });

  V.on("time", function (ms) {
    if (!head) return;
    var pct = V.durationMs ? Math.min(100, (100 * ms) / V.durationMs) : 0;
    head.style.left = pct + "%";
  });
})();
