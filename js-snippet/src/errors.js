// Uncaught errors and unhandled promise rejections, as `replay.error`.
import { errorText, argToString } from './serialize.js';
import { TAG_ERROR } from './wire.js';

const cap = (s) => String(s == null ? '' : s).slice(0, 8000);

/**
 * Record window errors and unhandled rejections, after those the loader queued
 * (`early`, or null: its records {w: event, s: epoch ms}); returns stop.
 */
export function startErrors(emit, early) {
  const onError = (e, timestamp) => {
    try {
      if (!(e instanceof ErrorEvent)) return; // resource load failures are not script errors
      const err = e.error;
      emit(TAG_ERROR, {
        kind: 'error',
        message: cap(e.message || (err && err.message)),
        source: cap(e.filename),
        line: e.lineno | 0,
        column: e.colno | 0,
        stack: err && err.stack ? cap(err.stack) : null,
      }, true, timestamp);
    } catch { /* never break the page */ }
  };
  const onRejection = (e, timestamp) => {
    try {
      const r = e.reason;
      const isErr = r && typeof r === 'object' && typeof r.message === 'string';
      emit(TAG_ERROR, {
        kind: 'unhandledrejection',
        message: cap(isErr ? r.name + ': ' + r.message : argToString(r)),
        source: null,
        line: 0,
        column: 0,
        stack: isErr && r.stack ? cap(errorText(r)) : null,
      }, true, timestamp);
    } catch { /* never break the page */ }
  };
  if (early) early.q.forEach((r) => r.w && (r.w.type === 'error' ? onError : onRejection)(r.w, r.s));
  if (early && early.live) { // the loader's listener stays and reports through its hook
    early.w = (e) => (e.type === 'error' ? onError : onRejection)(e);
    return () => { early.w = () => {}; };
  }
  addEventListener('error', onError);
  addEventListener('unhandledrejection', onRejection);
  return () => {
    removeEventListener('error', onError);
    removeEventListener('unhandledrejection', onRejection);
  };
}
