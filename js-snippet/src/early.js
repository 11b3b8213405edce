// What the loader (loader.js) leaves for the snippet, under one global:
//   {v: LOADER_VERSION, q: queue, st: store, d(record), x()}
// q holds call records (calls.js; `k` set), console lines ({c: level, a:
// arguments, t: trace, s: epoch ms}), uncaught errors and rejections ({w: the
// window's event, s}) and calls to the window.Replay stub ({f: 'init' | 'identify' |
// 'track' | 'stop', a: arguments, s}) in the order they came; a reader skips
// records it does not know, so new kinds need no new version. The loader's
// session lives in st (session.js reads it), d(record) is called as each queued
// call ends, and x() takes the loader's wrappers off (inert where another
// wrapper went on top of them). Pages keep an inline loader for years: change
// any of this only with a new LOADER_VERSION.

export const LOADER_GLOBAL = '__replay';
export const LOADER_VERSION = 1;
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
 * The loader's hand-over, or null when no loader of this version ran. Either way its
 * wrappers are off when this returns: from here on the snippet records, and no call
 * or console line is recorded twice.
 */
export function takeLoader() {
  try {
    const early = window[LOADER_GLOBAL];
    if (!early || typeof early.x !== 'function') return null;
    early.x();
    // A number only the loader can set: markup (<form id=…>) can shadow the global, never forge this.
    if (early.v !== LOADER_VERSION || !Array.isArray(early.q)) return null;
    early.v = 0; // taken: a second Replay.init finds nothing to take
    return early;
  } catch {
    return null;
  }
}
