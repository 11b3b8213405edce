// Batch buffer: events accumulate in an open batch, `flush` cuts it into a
// numbered batch that stays until acked. Bounded: over MAX_BUFFER_BYTES the
// oldest dispensable events go first, then whole batches' events, and each
// batch that lost events carries a marker saying how many (never silent).
// Sizes are UTF-8 bytes, as they go on the wire. The buffer also keeps each
// batch's send state (which channel it last went out on, whether a beacon
// carried it); the transport asks and marks through its methods.
import { MAX_EVENTS_PER_BATCH, MAX_SEQ } from './wire.js';
import { newId } from './session.js';

export const MAX_BATCH_BYTES = 48 * 1024; // a batch of several events fits in one beacon
export const MAX_BATCH_EVENTS = MAX_EVENTS_PER_BATCH / 10;
export const MAX_BUFFER_BYTES = 5 * 1024 * 1024;

/** UTF-8 length of a string (JSON text: surrogates come in pairs, 4 bytes a pair). */
export function byteLength(s) {
  let n = s.length;
  if (/[^\0-\x7f]/.test(s)) {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c > 127) n += c < 2048 || c >> 11 === 27 ? 1 : 2;
    }
  }
  return n;
}

/**
 * `marker(events, bytes, timestamp)` builds the event that stands for dropped ones.
 * `stream` is {session, secret, window}: batches are numbered from 1 per stream,
 * up to `maxSeq`; the next batch then starts a new window of the same session.
 */
export function createBuffer(stream, marker, maxSeq = MAX_SEQ) {
  let seq = 0;
  let open = null;
  let total = 0;
  let added = 0; // events added so far: their positions, for `forget`
  const batches = [];

  // `on`: the channel (a socket, the POST in flight) it last went out on; `beaconed`: a beacon carried it.
  const newBatch = () => ({ stream, seq: 0, ev: [], bytes: 0, lost: 0, lostBytes: 0, on: null, beaconed: false });
  const mark = (list, field, value) => list.forEach((b) => (b[field] = value));
  const json = (b) => b.ev.map((e) => e.j).join(',');

  function cut() {
    if (!open || !open.ev.length) return;
    if (seq >= maxSeq) {
      stream = open.stream = { ...stream, window: newId() };
      seq = 0;
    }
    open.seq = ++seq;
    batches.push(open);
    open = null;
  }

  // Remove events matching `pick` from `b`, keeping one marker at its end.
  function drop(b, pick) {
    const keep = [];
    for (const e of b.ev) {
      if (e.m || !pick(e)) keep.push(e);
      else { b.lost++; b.lostBytes += e.n; total -= e.n; }
    }
    const old = keep.find((e) => e.m);
    const ts = (old || b.ev[0] || {}).t || Date.now();
    const j = JSON.stringify(marker(b.lost, b.lostBytes, ts));
    const m = { j, n: byteLength(j) + 1, t: ts, m: true };
    total += m.n - (old ? old.n : 0);
    b.ev = keep.filter((e) => !e.m).concat(m);
    b.bytes = b.ev.reduce((n, e) => n + e.n, 0);
  }

  // Down to 90% of the cap, so that trimming is rare.
  function trim() {
    const all = open ? batches.concat(open) : batches;
    for (const pick of [(e) => e.x, () => true]) {
      for (const b of all) {
        if (total <= MAX_BUFFER_BYTES * 0.9) return;
        if (b.ev.some((e) => !e.m && pick(e))) drop(b, pick);
      }
    }
  }

  return {
    /** Add one rrweb event; `dispensable` ones are dropped first when over the cap; none where `gate(bytes)` says so. */
    add(event, dispensable, gate) {
      let j;
      try { j = JSON.stringify(event); } catch { return; }
      const n = byteLength(j) + 1; // and the comma that joins it to the next
      if (gate && gate(n)) return;
      if (!open) open = newBatch();
      if (open.ev.length && (open.bytes + n > MAX_BATCH_BYTES || open.ev.length >= MAX_BATCH_EVENTS)) {
        cut();
        open = newBatch();
      }
      open.ev.push({ j, n, t: event.timestamp, x: dispensable, k: added++ });
      open.bytes += n;
      total += n;
      if (total > MAX_BUFFER_BYTES) trim();
    },
    /** Cut the open batch, if it holds anything. */
    flush: cut,
    /** Unacked batches, oldest first (to read: send state changes through the methods below). */
    pending: () => batches,
    /** Unacked batches that did not go out on `channel`, oldest first. */
    unsent: (channel) => batches.filter((b) => b.on !== channel),
    /** Whether batch `b` went out on `channel`. */
    sentOn: (b, channel) => b.on === channel,
    /** The batches of `list` went out on `channel`. */
    markSent: (list, channel) => mark(list, 'on', channel),
    /** The batches of `list` did not arrive: any channel sends them again. */
    markUnsent: (list) => mark(list, 'on', null),
    /** Unacked batches no beacon carried yet, oldest first. */
    unbeaconed: () => batches.filter((b) => !b.beaconed),
    /** A beacon carried `list` (or, with false, failed to); they stay until acked. */
    markBeaconed: (list, done = true) => mark(list, 'beaconed', done),
    /** The stream new events go to. */
    stream: () => stream,
    /** Start numbering a new stream (new session); the open batch is cut first. */
    setStream(s) { cut(); stream = s; seq = 0; },
    /** Drop batch `seq` and every batch <= `upTo` of stream `s`. */
    ack(s, seq, upTo) {
      for (let i = batches.length - 1; i >= 0; i--) {
        const b = batches[i];
        if (b.stream === s && (b.seq === seq || b.seq <= upTo)) {
          total -= b.bytes;
          batches.splice(i, 1);
        }
      }
    },
    /** The position the next event added takes. */
    added: () => added,
    /**
     * Drop every event added before position `k` (a batch's marker of events dropped over the cap stays), while nothing
     * was sent yet (record on failure, onfailure.js): the batches left are numbered from 1 again.
     */
    forget(k) {
      const n = {};
      for (const b of open ? batches.concat(open) : batches) {
        b.ev = b.ev.filter((e) => e.k >= k || e.m || ((total -= e.n), 0));
        b.bytes = b.ev.reduce((x, e) => x + e.n, 0);
      }
      batches.splice(0, batches.length, ...batches.filter((b) => b.ev.length));
      batches.forEach((b) => { n[b.stream.window] = b.seq = (n[b.stream.window] || 0) + 1; });
      seq = n[stream.window] || 0;
    },
    /** Replace a batch's events by a marker (it cannot be sent as it is). */
    collapse: (b) => drop(b, () => true),
    /** The batch as JSON array text of its events. */
    eventsJSON: json,
  };
}
