// The loader: a few lines a site puts first in <head> (inline, or as a blocking
// <script src=".../loader.js">), so that calls and console lines from the very
// start of the page are recorded. It wraps fetch, XMLHttpRequest and console
// with the snippet's own code (calls.js, console.js), gives same-origin calls
// the X-Replay-Session header of the session the snippet will use (session.js),
// and queues what it saw until the snippet takes over (early.js): calls, console
// lines, uncaught errors, and calls to window.Replay (a stub until the snippet
// arrives). Its tag takes the snippet tag's data-correlation and
// data-correlation-paths.
import { LOADER_GLOBAL, LOADER_VERSION, STUB } from './early.js';
import { loadSession, pageStorage } from './session.js';
import { wrapCalls, correlated } from './calls.js';
import { wrapConsole } from './console.js';

// A page that never loads the snippet stops queueing here.
const MAX_QUEUED = 1000;

try {
  if (!window[LOADER_GLOBAL]) {
    const q = [];
    const st = pageStorage();
    const session = loadSession(Date.now(), st);
    const data = (document.currentScript || {}).dataset || {};
    const keep = (r) => q.length < MAX_QUEUED && q.push(r);
    // Its wrappers call through these hooks, which the snippet replaces with its own (early.js).
    const early = {
      v: LOADER_VERSION, q, st, d() {},
      t: correlated(data.correlation !== 'off', data.correlationPaths),
      s: () => session.id,
      b: keep,
      c: (c, a, t) => keep({ c, a, t, s: Date.now() }),
      w: (w) => keep({ w, s: Date.now() }),
    };
    const onError = (e) => early.w(e);
    const stops = [
      wrapCalls({ tagged: (u) => early.t(u), sessionId: () => early.s(), begin: (c, a, r) => early.b(c, a, r), end: (c) => early.d(c) }),
      wrapConsole((c, a, t) => early.c(c, a, t)),
      () => ['error', 'unhandledrejection'].forEach((t) => removeEventListener(t, onError)),
    ];
    ['error', 'unhandledrejection'].forEach((t) => addEventListener(t, onError));
    if (!window.Replay) {
      const later = (f) => (...a) => { keep({ f, a, s: Date.now() }); };
      window.Replay = { [STUB]: 1, init: later('init'), identify: later('identify'), track: later('track'), stop: later('stop'), getSessionURL: () => null };
    }
    early.x = () => stops.forEach((stop) => stop());
    window[LOADER_GLOBAL] = early;
  }
} catch { /* never break the page */ }
