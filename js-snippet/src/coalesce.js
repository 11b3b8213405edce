// Bursts of DOM changes folded into one mutation event. rrweb's mutation buffers can be frozen: they
// keep collecting, and fold what a burst undoes or redoes (a node added then removed, an attribute set
// many times) into what is left. After each mutation event the snippet freezes them for at most HOLD_MS;
// rrweb unfreezes them itself before any other event of its own (input, clicks, a full snapshot), and
// `flush()` does before the snippet's own events and when the page is hidden or left: events keep their
// order, and a mutation event is delayed by at most HOLD_MS (it is stamped when emitted). A page
// rewriting a table 10 times a second then costs rrweb's per-event work (serialising the added nodes,
// emitting) a few times a second, and the snippet's (JSON, buffering, sending) with it.
export const HOLD_MS = 1000;
export const TAG_FLUSH = 'replay.flush'; // a no-op event that makes rrweb emit what it holds; never sent

/** {held(), flush()} over rrweb's `record`; `leaving` (leaving.js) flushes before the last beacons. */
export function createCoalesce(rec, leaving, later = setTimeout, clear = clearTimeout) {
  let timer = 0;
  let remove = null;
  const flush = () => {
    if (!timer) return;
    clear(timer);
    timer = 0;
    remove();
    try { rec.addCustomEvent(TAG_FLUSH, 0); } catch { /* not recording */ }
  };
  return {
    /** A mutation event went out: hold the next ones for a while. */
    held() {
      try { rec.freezePage(); } catch { return; }
      if (!timer) {
        timer = later(flush, HOLD_MS);
        remove = leaving.add(flush);
      }
    },
    flush,
  };
}
