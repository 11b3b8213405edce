// A page holding its recording (record on failure) sends only this: one small POST as it starts, which the
// project counts. The answer is the collector's `capture` (as in its ready): the project's sample rate and
// request-body patterns (docs/protocol.md, "Heartbeat").
import { PROTOCOL_VERSION, HEARTBEAT_PATH } from './wire.js';

/** POST the heartbeat of project `key` to `endpoint`; `onCapture(capture)` hears the answer. */
export function heartbeat(env, endpoint, key, onCapture) {
  try {
    env.fetch(endpoint + HEARTBEAT_PATH, { method: 'POST', body: JSON.stringify({ v: PROTOCOL_VERSION, key }), credentials: 'omit' })
      .then((r) => r.json())
      .then((b) => onCapture(b.capture), () => {});
  } catch { /* nothing to count */ }
}
