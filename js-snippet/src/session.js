// Session and window ids: a session lives in sessionStorage and ends after
// SESSION_IDLE_MS without user activity; a window id is per page load. Each
// session has a secret, made and kept with its id: the collector binds the
// session to it, so knowing the id (it travels in X-Replay-Session headers
// and proxy logs) is not enough to write into the session.
import { ID_PATTERN, SECRET_PATTERN } from './wire.js';

export const SESSION_IDLE_MS = 30 * 60 * 1000;
const STORAGE_KEY = '__replay_session';
// lastActive is written back at most this often (activity fires on every mousemove).
const SAVE_EVERY_MS = 5000;
const ID_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';

/** 21 url-safe random characters. */
export function newId() {
  const bytes = crypto.getRandomValues(new Uint8Array(21));
  let id = '';
  for (const b of bytes) id += ID_CHARS[b & 63];
  return id;
}

function pageStorage() {
  try {
    const s = window.sessionStorage;
    s.setItem(STORAGE_KEY + '_t', '1');
    s.removeItem(STORAGE_KEY + '_t');
    return s;
  } catch {
    return null; // privacy mode or blocked storage: keep the session in memory
  }
}

const matches = (value, pattern) => typeof value === 'string' && new RegExp(pattern).test(value);

/** The current session, kept in `store` (sessionStorage); `touch` reports whether it had to start a new one. */
export function createSession(now = Date.now(), store = pageStorage()) {
  let state = null;
  let savedActive = 0;
  try {
    state = JSON.parse(store.getItem(STORAGE_KEY));
  } catch { /* none yet, or unreadable */ }
  const valid = state && matches(state.id, ID_PATTERN) && matches(state.secret, SECRET_PATTERN) && now - state.lastActive <= SESSION_IDLE_MS;

  const save = () => {
    savedActive = state.lastActive;
    try { store.setItem(STORAGE_KEY, JSON.stringify(state)); } catch { /* memory only */ }
  };
  const rotate = (t) => {
    state = { id: newId(), secret: newId(), started: 0, lastActive: t };
    session.window = newId();
  };

  const session = {
    window: newId(),
    get id() { return state.id; },
    /** Sent in hellos and envelopes only: never in headers, URLs or logs. */
    get secret() { return state.secret; },
    /** Timestamp of the session's first event (0 before any). */
    get started() { return state.started; },
    /** Note an event at `t`; user activity extends the session or, after the idle time, starts a new one. */
    touch(t, activity) {
      let rotated = false;
      if (activity) {
        if (t - state.lastActive > SESSION_IDLE_MS) { rotate(t); rotated = true; }
        state.lastActive = Math.max(state.lastActive, t);
      }
      if (!state.started) { state.started = t; save(); }
      else if (rotated || state.lastActive - savedActive > SAVE_EVERY_MS) save();
      return rotated;
    },
    save,
  };
  if (valid) state.lastActive = now;
  else rotate(now);
  save();
  return session;
}
