// Loads a recording segment by segment and hands its events over in time order.
// The first segments (up to a full snapshot) start the player; the rest follow in the background.
(function () {
  "use strict";
  var V = window.ReplayView;
  if (!V) return;
  var PARALLEL = 4; // segment requests in flight once the player runs
  var RETRIES = 2;

  function byTime(a, b) { return a.timestamp - b.timestamp; }

  // handlers: start(events, untilMs), more(events, untilMs), done(), fail(message).
  // untilMs: every event before this offset has been handed over (Infinity when all are).
  V.loadRecording = function (handlers) {
    V.getJSON(V.api + "/segments").then(function (listing) {
      var segs = listing.segments || [];
      if (!segs.length) return handlers.fail("This session has no recording yet.");
      var got = new Array(segs.length);
      var next = 0, fed = 0, inflight = 0, started = false, stopped = false;
      var pending = [], first = [];

      function fetchOne(i, tries) {
        inflight++;
        V.getJSON(V.api + "/segments/" + encodeURIComponent(segs[i].id)).then(function (events) {
          inflight--;
          got[i] = events || [];
          advance();
          pump();
        }, function (err) {
          inflight--;
          if (tries < RETRIES && !err.status) return fetchOne(i, tries + 1);
          stopped = true;
          handlers.fail("The recording could not be loaded: " + err.message);
        });
      }

      function pump() {
        var limit = started ? PARALLEL : 1;
        while (!stopped && inflight < limit && next < segs.length) fetchOne(next++, 0);
      }

      // Segments are listed by their first event's time, but windows (tabs) may overlap:
      // an event is final once no unfetched segment starts before it.
      function advance() {
        var added = false;
        while (fed < segs.length && got[fed]) {
          pending = pending.concat(got[fed]);
          got[fed] = null;
          fed++;
          added = true;
        }
        if (!added) return;
        pending.sort(byTime);
        var horizon = fed < segs.length ? segs[fed].start_ms : Infinity;
        var cut = 0;
        while (cut < pending.length && pending[cut].timestamp < horizon) cut++;
        var ready = pending.slice(0, cut);
        pending = pending.slice(cut);
        var until = horizon === Infinity ? Infinity : horizon - V.startedMs;
        if (!started) {
          first = first.concat(ready);
          var snapshot = first.some(function (e) { return e.type === 2; });
          if ((snapshot && first.length > 1) || fed === segs.length) {
            started = true;
            handlers.start(first, until);
          }
        } else {
          handlers.more(ready, until);
        }
        if (fed === segs.length) handlers.done();
      }

      pump();
    }).catch(function (err) {
      handlers.fail("The recording could not be loaded: " + err.message);
    });
  };
})();
