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

/** sessionStorage, or a store in memory where it is blocked (privacy mode). */
export function pageStorage() {
  try {
    const s = window.sessionStorage;
    s.setItem(STORAGE_KEY + '_t', '1');
    s.removeItem(STORAGE_KEY + '_t');
    return s;
  } catch {
    const m = {}; // getItem of a missing key gives undefined, which JSON.parse refuses like null
    return { getItem: (k) => m[k], setItem: (k, v) => { m[k] = String(v); } };
  }
}

const matches = (value, pattern) => typeof value === 'string' && new RegExp(pattern).test(value);
const fresh = (t) => ({ id: newId(), secret: newId(), started: 0, lastActive: t });
const save = (store, state) => {
  try { store.setItem(STORAGE_KEY, JSON.stringify(state)); } catch { /* memory only */ }
};

/**
 * The session of this page load: the one in `store` if it was active within
 * SESSION_IDLE_MS, else a new one; saved back as active `now`. The loader
 * (loader.js) calls this before the snippet, which then finds the same session.
 */
export function loadSession(now, store) {
  let state = null;
  try {
    state = JSON.parse(store.getItem(STORAGE_KEY));
  } catch { /* none yet, or unreadable */ }
  const valid = state && matches(state.id, ID_PATTERN) && matches(state.secret, SECRET_PATTERN) && now - state.lastActive <= SESSION_IDLE_MS;
  if (valid) state.lastActive = now;
  else state = fresh(now);
  save(store, state);
  return state;
}

/** The current session, kept in `store` (sessionStorage); `touch` reports whether it had to start a new one. */
export function createSession(now = Date.now(), store = pageStorage()) {
  let state = loadSession(now, store);
  let savedActive = state.lastActive;

  const keep = () => {
    savedActive = state.lastActive;
    save(store, state);
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
      if (activity && t - state.lastActive > SESSION_IDLE_MS) {
        state = fresh(t);
        session.window = newId();
        rotated = true;
      }
      if (activity) state.lastActive = Math.max(state.lastActive, t);
      // The first event is not always the earliest: the loader's queue may follow a later one.
      if (!state.started || t < state.started) { state.started = t; keep(); }
      else if (rotated || state.lastActive - savedActive > SAVE_EVERY_MS) keep();
      return rotated;
    },
  };
  return session;
}
