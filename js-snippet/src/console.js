// Wraps console methods: the original runs unchanged, a copy is recorded.
import { serializeArgs } from './serialize.js';
import { TAG_CONSOLE } from './wire.js';

export const LEVELS = ['log', 'info', 'warn', 'error', 'debug'];

/** Record console calls as `replay.console`; returns stop. */
export function startConsole(emit) {
  let active = true;
  let busy = false; // our own emit path may log (rrweb warns): never record that
  const restores = LEVELS.map((level) => {
    const original = console[level];
    if (typeof original !== 'function') return () => {};
    const wrapper = function () {
      if (active && !busy) {
        busy = true;
        try {
          const payload = { level, args: serializeArgs(arguments) };
          if (level === 'error') payload.trace = String(new Error().stack || '').split('\n').slice(2).join('\n');
          emit(TAG_CONSOLE, payload, level === 'error');
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
