// What the loader (loader.js) leaves for the snippet, under one global:
//   {v: LOADER_VERSION, q: queue, st: store, d(record), x()}
// q holds call records (calls.js; `k` set) and console lines ({c: level, a:
// arguments, t: trace, s: epoch ms}) in the order they came, the loader's
// session lives in st (session.js reads it), d(record) is called as each queued
// call ends, and x() takes the loader's wrappers off (inert where another
// wrapper went on top of them). Pages keep an inline loader for years: change
// any of this only with a new LOADER_VERSION.

export const LOADER_GLOBAL = '__replay';
export const LOADER_VERSION = 1;

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
