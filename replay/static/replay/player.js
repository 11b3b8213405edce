// The rrweb player: started on the first loaded segments, fed the rest as they arrive, seeks on request.
// rrweb's replayer rebuilds the recorded page in a sandboxed iframe: its scripts never run here.
(function () {
  "use strict";
  var V = window.ReplayView;
  var el = document.getElementById("player");
  if (!V || !el || !V.loadRecording) return;
  var state = document.getElementById("load-state");
  var player = null, loadedUntil = 0, done = false, wanted = null, ready = false;

  function say(text) { if (state) state.textContent = text; }

  function show(message) {
    el.textContent = "";
    el.appendChild(V.make("p", "error", message));
    say("");
  }

  function reachable(ms) { return done || ms < loadedUntil; }

  // Seeks now when the events up to ms are in, else as soon as they are.
  function go(ms, play) {
    if (!player) { V.startAt = ms; return; }
    if (!reachable(ms)) {
      wanted = { ms: ms, play: play };
      say("Loading the recording up to " + V.clock(ms) + "…");
      return;
    }
    wanted = null;
    player.goto(ms, play);
    if (!ready) {
      ready = true;
      el.dataset.ready = "true";
    }
  }

  function meta(events) {
    for (var i = 0; i < events.length; i++) {
      var e = events[i];
      if (e.type === 4 && e.data) {
        var viewport = document.getElementById("viewport");
        if (viewport && e.data.width) viewport.textContent = e.data.width + " × " + e.data.height + " px";
        return V.emit("meta", e.data);
      }
    }
  }

  function start(events, until) {
    loadedUntil = until;
    if (events.length < 2 || !events.some(function (e) { return e.type === 2; })) {
      show("This session has no page snapshot yet: " + events.length + " events recorded.");
      return;
    }
    el.textContent = "";
    var width = Math.max(320, Math.min(el.clientWidth - 16, 1200));
    player = new rrwebPlayer({
      target: el,
      props: { events: events, width: width, height: Math.round(width * 0.56), autoPlay: false,
               showWarning: false, mouseTail: false },
    });
    player.addEventListener("ui-update-current-time", function (p) { V.emit("time", p.payload); });
    player.addEventListener("ui-update-player-state", function (p) { V.emit("state", p.payload); });
    V.player = player;
    meta(events);
    progress();
    go(V.startAt, false);
    V.emit("player", player);
  }

  function more(events, until) {
    loadedUntil = until;
    if (!player) return;
    if (events.length) {
      var replayer = player.getReplayer();
      // player.addEvent also refreshes the controller's total time: once per chunk is enough.
      for (var i = 0; i < events.length - 1; i++) replayer.addEvent(events[i]);
      player.addEvent(events[events.length - 1]);
    }
    progress();
    // addEvent lands in a microtask: seek after it.
    if (wanted && reachable(wanted.ms)) setTimeout(function () { if (wanted) go(wanted.ms, wanted.play); }, 0);
  }

  function progress() {
    if (done) return say("");
    if (!wanted) say("Loading… " + V.clock(Math.min(loadedUntil, V.durationMs)) + " of " + V.clock(V.durationMs));
  }

  V.on("seek", function (ms) { go(ms); });

  V.loadRecording({
    start: start,
    more: more,
    done: function () {
      done = true;
      el.dataset.loaded = "true";
      say("");
      if (wanted) setTimeout(function () { if (wanted) go(wanted.ms, wanted.play); }, 0);
      V.emit("loaded");
    },
    fail: function (message) { if (player) say(message); else show(message); },
  });
})();
