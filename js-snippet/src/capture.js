// What the collector asks the snippet to record beyond the default: request bodies of failed calls to
// the project's URL patterns (the `capture` of its ready answer, docs/protocol.md). Nothing until it
// says; a call that fails before the answer waits for it, at most WAIT_MS, then goes without a body.
// When the page is hidden or left first, it goes at once (without a body), ahead of the transport's
// last beacons: created before the transport, so these listeners run before its own.
import { MAX_CAPTURE_PATTERNS } from './wire.js';

const WAIT_MS = 5000;

// "/path*" matches a URL's path on any host, anything else scheme://host/path; `*` is any run of characters.
function matches(p, url) {
  try {
    const u = new URL(url);
    const glob = p.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
    return p === '*' || new RegExp('^' + glob + '$', 's').test(p[0] === '/' ? u.pathname : u.protocol + '//' + u.host + u.pathname);
  } catch {
    return false;
  }
}

/** {set(capture), wants(url), when(fn)}: `set` takes the ready's `capture` (or nothing: capture nothing). */
export function createCapture() {
  let patterns = null; // null: the collector has not said yet
  let waiting = [];
  const run = () => {
    const due = waiting;
    waiting = [];
    due.forEach((fn) => fn());
  };
  try {
    addEventListener('pagehide', run);
    document.addEventListener('visibilitychange', run);
  } catch { /* not in a page */ }
  return {
    set(capture) {
      const list = capture && capture.requestBodies;
      patterns = Array.isArray(list) ? list.filter((p) => typeof p === 'string').slice(0, MAX_CAPTURE_PATTERNS) : [];
      run();
    },
    /** Asked for this URL's request bodies? False while the collector has not said. */
    wants: (url) => !!patterns && patterns.some((p) => matches(p, url)),
    known: () => patterns !== null,
    /** fn() once the collector has said (or WAIT_MS passed). */
    when(fn) {
      if (patterns) return fn();
      waiting.push(fn);
      setTimeout(run, WAIT_MS);
    },
  };
}
