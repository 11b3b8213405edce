// HTTP POST of batches, one group per request: the way in where websockets fail.
import { MAX_HTTP_BATCH_BYTES } from './wire.js';
import { encode, sizeOf } from './envelope.js';

// Before gzip: half the collector's limit, so a group fits even where the browser cannot gzip.
const MAX_POST_BYTES = MAX_HTTP_BATCH_BYTES / 2;
// Refusals that would only repeat (protocol.md).
const FATAL_HTTP_STATUS = [400, 403, 426, 507];

/** The channel batches are marked sent on while their request is in flight. */
export const POST = 'post';
// Outcomes of one request.
export const SENT = 'sent'; // stored: post the next group
export const SPLIT = 'split'; // too large: post again, in smaller parts
export const FAILED = 'failed'; // back off, then post again
export const REFUSED = 'refused'; // would only be refused again: stop

/** Posts the buffer's batches to `url`; `post()` resolves to an outcome, or is null with nothing to send. */
export function createPoster({ env, url, buffer, wire, onCapture = () => {} }) {
  let limit = MAX_POST_BYTES; // halved by each 413 on a group of several batches

  function answer(group, res) {
    if (FATAL_HTTP_STATUS.includes(res.status)) return REFUSED;
    if (res.status === 413) {
      // Too large: send the group in smaller parts; a batch too large on its
      // own goes as the marker that counts its events (replay.dropped).
      if (group.length > 1) {
        limit = Math.max(group.bytes / 2, 1024);
        return SPLIT;
      }
      const before = group[0].bytes;
      buffer.collapse(group[0]);
      return group[0].bytes < before ? SPLIT : FAILED; // a bare marker refused: back off
    }
    if (!res.ok) return FAILED;
    return res.json().then((body) => {
      onCapture(body && body.capture);
      group.forEach((b) => buffer.ack(b.stream, b.seq, 0));
      return SENT;
    });
  }

  return {
    post() {
      const group = wire.groups(buffer.unsent(POST), limit)[0];
      if (!group) return null;
      buffer.markSent(group, POST);
      return encode(wire.envelope(group))
        .then((data) => (sizeOf(data) > MAX_HTTP_BATCH_BYTES
          ? { status: 413 }
          : env.fetch(url, { method: 'POST', body: new Blob([data], { type: 'text/plain' }), credentials: 'omit' })))
        .then((res) => answer(group, res))
        .catch(() => FAILED)
        .then((outcome) => {
          buffer.markUnsent(group); // those not acked go again
          return outcome;
        });
    },
  };
}
