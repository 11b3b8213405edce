// What the loader (loader.js) leaves for the snippet, under one global:
//   {v: LOADER_VERSION, q: queue, st: store, d(record), x(), and the hooks t, s, b, c, w}
// q holds call records (calls.js; `k` set), console lines ({c: level, a:
// arguments, t: trace, s: epoch ms}), uncaught errors and rejections ({w: the
// window's event, s}) and calls to the window.Replay stub ({f: 'init' | 'identify' |
// 'track' | 'stop', a: arguments, s}) in the order they came; a reader skips
// records it does not know, so new kinds need no new version. The loader's
// session lives in st (session.js reads it), and x() takes the loader's wrappers
// off (inert where another wrapper went on top of them).
//
// Version 2: the loader's wrappers call through hooks: t(url) (tag this call with
// the session header?), s() (the session id), b(record, args, request) (follow this
// call? truthy: yes), d(record) (a call ended), c(level, args, trace) (a console
// line), w(event) (an uncaught error or rejection). Until the snippet comes they
// queue; the snippet replaces them with its own and keeps the loader's wrappers,
// so that a library that kept a reference to fetch or console.error before the
// snippet came is still recorded, once. Version 1 (pages keep an inline loader for
// years) had no hooks other than d: its wrappers come off, its queue is taken, and
// the snippet wraps on its own. Change any of this only with a new LOADER_VERSION.

export const LOADER_GLOBAL = '__replay';
export const LOADER_VERSION = 2;
// Loaders whose queue the snippet still takes (their wrappers come off).
const OLDER_LOADERS = [1];
// Marks the loader's window.Replay stub, which the snippet replaces.
export const STUB = '__replayStub';

/** The calls made to the loader's window.Replay stub so far (left in the queue). */
export function stubCalls() {
  try {
    const early = window[LOADER_GLOBAL];
    return early && early.v === LOADER_VERSION && Array.isArray(early.q) ? early.q.filter((r) => r.f) : [];
  } catch {
    return [];
  }
}

/**
 * The loader's hand-over, or null when no loader the snippet knows ran. Its `live` is
 * true when the loader's wrappers stay and record for the snippet through its hooks
 * (this version); otherwise they are off when this returns. Either way, from here on
 * the snippet records, and no call or console line is recorded twice.
 */
export function takeLoader() {
  try {
    const early = window[LOADER_GLOBAL];
    if (!early || typeof early.x !== 'function') return null;
    // A number only the loader can set: markup (<form id=…>) can shadow the global, never forge this.
    const live = early.v === LOADER_VERSION;
    if (!live) early.x();
    if (!(live || OLDER_LOADERS.includes(early.v)) || !Array.isArray(early.q)) return null;
    early.v = 0; // taken: a second Replay.init finds nothing to take
    early.live = live;
    return early;
  } catch {
    return null;
  }
}
