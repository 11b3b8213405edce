// Record on failure: until a call fails or an error goes uncaught, nothing is sent. rrweb takes a full
// snapshot every `bufferMs` (a checkout), and the buffer keeps the events from the second-to-last one on:
// the context before a failure is never shorter than bufferMs. Whether a session records in full (sampled,
// or a failure was seen) is decided once per session and kept in sessionStorage, for its later pages.
import { EventType } from '@rrweb/types';
import { TAG_ERROR, TAG_NETWORK } from './wire.js';

export const BUFFER_MS = 30000;
const STORAGE_KEY = '__replay_full';

/** Does this event start the upload? An uncaught error; a call with a 5xx (4xx too: `with4xx`) or no answer. */
export const triggers = (tag, p, with4xx) => tag === TAG_ERROR || (tag === TAG_NETWORK && p.failed
  && (p.status >= (with4xx ? 400 : 500) || (!p.status && p.error !== 'abort')));

/** A function to call with each rrweb event before the buffer (createBuffer) takes it: trims to the last two checkouts. */
export function createRolling(buffer) {
  const marks = []; // buffer positions of the last two checkouts (a Meta event starts each)
  return (event) => {
    if (event.type !== EventType.Meta) return;
    marks.push(buffer.added());
    if (marks.length > 2) marks.shift();
    if (marks.length > 1) buffer.forget(marks[0]);
  };
}

/** {get(id) → true (in full), false (on failure) or undefined (not decided), set(id, full)}, kept in `store`. */
export function fullChoice(store) {
  return {
    get(id) {
      try {
        const c = JSON.parse(store.getItem(STORAGE_KEY));
        return c && c.id === id ? !!c.full : undefined;
      } catch { return undefined; }
    },
    set(id, full) {
      try { store.setItem(STORAGE_KEY, JSON.stringify({ id, full })); } catch { /* this page only */ }
    },
  };
}
