// Wraps console methods: the original runs unchanged, a copy is recorded. The
// loader (loader.js) queues the lines with the same wrapper until the snippet comes.
import { serializeArgs } from './serialize.js';
import { TAG_CONSOLE } from './wire.js';

export const LEVELS = ['log', 'info', 'warn', 'error', 'debug'];

/** Calls `line(level, args, trace)` for each console call (`trace` for errors only); returns stop. */
export function wrapConsole(line) {
  let active = true;
  let busy = false; // our own recording may log (rrweb warns): never record that
  const restores = LEVELS.map((level) => {
    const original = console[level];
    if (typeof original !== 'function') return () => {};
    const wrapper = function () {
      if (active && !busy) {
        busy = true;
        try {
          line(level, arguments, level === 'error' ? String(new Error().stack || '').split('\n').slice(2).join('\n') : undefined);
        } catch { /* never break the page's logging */ }
        busy = false;
      }
      return original.apply(this, arguments);
    };
    console[level] = wrapper;
    // Someone may have wrapped us since: then stay in place, but inert.
    return () => { if (console[level] === wrapper) console[level] = original; };
  });
  return () => {
    active = false;
    restores.forEach((r) => r());
  };
}

/** Record console calls as `replay.console`, after the lines the loader queued (`early`, or null); returns stop. */
export function startConsole(emit, early) {
  const record = (level, args, trace, timestamp) => {
    const payload = { level, args: serializeArgs(args) };
    if (trace !== undefined) payload.trace = trace;
    emit(TAG_CONSOLE, payload, level === 'error', timestamp);
  };
  if (early) early.q.forEach((r) => r.c && record(r.c, r.a, r.t, r.s));
  // A live loader's wrappers stay (a logger may hold them) and record through its hook.
  if (early && early.live) {
    early.c = record;
    return () => { early.c = () => {}; };
  }
  return wrapConsole(record);
}
