// Loads a recording segment by segment and hands its events over in time order.
// The first segments (up to a full snapshot) start the player; the rest follow in the background.
import { hasFullSnapshot } from "./events.js";
import { getJSON } from "./http.js";

const PARALLEL = 4; // segment requests in flight once the player runs
const RETRIES = 2;

function byTime(a, b) { return a.timestamp - b.timestamp; }

// api: the session's API base; startedMs: the session start, for untilMs.
// handlers: start(events, untilMs), more(events, untilMs), done(), fail(message).
// untilMs: every event before this offset has been handed over (Infinity when all are).
export function loadRecording(api, startedMs, handlers) {
  getJSON(api + "/segments").then((listing) => {
    const segs = listing.segments || [];
    if (!segs.length) return handlers.fail("This session has no recording yet.");
    const got = new Array(segs.length);
    let next = 0, fed = 0, inflight = 0, started = false, stopped = false;
    let pending = [], first = [];

    function fetchOne(i, tries) {
      inflight++;
      getJSON(api + "/segments/" + encodeURIComponent(segs[i].id)).then((events) => {
        inflight--;
        got[i] = events || [];
        advance();
        pump();
      }, (err) => {
        inflight--;
        if (tries < RETRIES && !err.status) return fetchOne(i, tries + 1);
        stopped = true;
        handlers.fail("The recording could not be loaded: " + err.message);
      });
    }

    function pump() {
      const limit = started ? PARALLEL : 1;
      while (!stopped && inflight < limit && next < segs.length) fetchOne(next++, 0);
    }

    // Segments are listed by their first event's time, but windows (tabs) may overlap:
    // an event is final once no unfetched segment starts before it.
    function advance() {
      let added = false;
      while (fed < segs.length && got[fed]) {
        pending = pending.concat(got[fed]);
        got[fed] = null;
        fed++;
        added = true;
      }
      if (!added) return;
      pending.sort(byTime);
      const horizon = fed < segs.length ? segs[fed].start_ms : Infinity;
      let cut = 0;
      while (cut < pending.length && pending[cut].timestamp < horizon) cut++;
      const ready = pending.slice(0, cut);
      pending = pending.slice(cut);
      const until = horizon === Infinity ? Infinity : horizon - startedMs;
      if (!started) {
        first = first.concat(ready);
        if ((hasFullSnapshot(first) && first.length > 1) || fed === segs.length) {
          started = true;
          handlers.start(first, until);
        }
      } else {
        handlers.more(ready, until);
      }
      if (fed === segs.length) handlers.done();
    }

    pump();
  }).catch((err) => {
    handlers.fail("The recording could not be loaded: " + err.message);
  });
}
