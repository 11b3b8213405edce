// The batch buffer: what its batches hold when the collector is out of reach
// for long, and the send state it keeps for the transport.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBuffer, MAX_BUFFER_BYTES } from '../src/buffer.js';
import { TAG_DROPPED, ID_PATTERN } from '../src/wire.js';
import { STREAM, marker } from './fakes.js';

const EVENT_CHARS = 10 * 1000;
const event = (id) => ({ type: 3, timestamp: 1000 + id, data: { id, text: 'e'.repeat(EVENT_CHARS) } });
const size = (id) => JSON.stringify(event(id)).length + 1;

// The batches as the transport would send them: [{seq, events}].
function batches(buffer) {
  buffer.flush();
  return buffer.pending().map((b) => ({ seq: b.seq, events: JSON.parse('[' + buffer.eventsJSON(b) + ']') }));
}

function check(buffer, added) {
  const out = batches(buffer);
  assert.deepEqual(out.map((b) => b.seq), out.map((_, i) => i + 1), 'sequence numbers stay contiguous');
  const kept = out.flatMap((b) => b.events.filter((e) => e.data.tag !== TAG_DROPPED).map((e) => e.data.id));
  const markers = out.flatMap((b) => b.events.filter((e) => e.data.tag === TAG_DROPPED));
  for (const b of out) {
    const i = b.events.findIndex((e) => e.data.tag === TAG_DROPPED);
    assert.ok(i === -1 || i === b.events.length - 1, 'one marker per batch, at its end');
  }
  const dropped = added.filter((id) => !kept.includes(id));
  const count = markers.reduce((n, m) => n + m.data.payload.events, 0);
  const bytes = markers.reduce((n, m) => n + m.data.payload.bytes, 0);
  assert.equal(count, dropped.length, 'every dropped event is counted: never silent');
  assert.equal(bytes, dropped.reduce((n, id) => n + size(id), 0));
  const held = out.reduce((n, b) => n + JSON.stringify(b.events).length, 0);
  assert.ok(held <= MAX_BUFFER_BYTES, `${held} bytes held`);
  return { kept, dropped, markers };
}

test('past its cap the buffer drops the oldest dispensable events first, and says how many', () => {
  const buffer = createBuffer(STREAM, marker);
  const added = [];
  for (let id = 1; id <= 600; id++) { // 6 MB: mouse moves and clicks, alternately
    buffer.add(event(id), id % 2 === 1);
    added.push(id);
  }
  const { kept, dropped, markers } = check(buffer, added);
  assert.ok(dropped.length > 50, `${dropped.length} dropped`);
  assert.ok(dropped.every((id) => id % 2 === 1), 'only dispensable events went');
  const dispensable = added.filter((id) => id % 2 === 1);
  assert.deepEqual(dropped, dispensable.slice(0, dropped.length), 'the oldest ones');
  assert.deepEqual(kept.filter((id) => id % 2 === 0), added.filter((id) => id % 2 === 0));
  assert.ok(markers.every((m) => m.type === 5 && m.timestamp >= 1000));
});

test('with nothing dispensable left, the oldest events go, still counted', () => {
  const buffer = createBuffer(STREAM, marker);
  const added = [];
  for (let id = 1; id <= 600; id++) {
    buffer.add(event(id), false);
    added.push(id);
  }
  const { kept, dropped } = check(buffer, added);
  assert.ok(dropped.length > 50);
  assert.deepEqual(dropped, added.slice(0, dropped.length));
  assert.deepEqual(kept, added.slice(dropped.length));
});

test('a collapsed batch holds one marker counting its events', () => {
  const buffer = createBuffer(STREAM, marker);
  [1, 2, 3].forEach((id) => buffer.add(event(id)));
  buffer.flush();
  buffer.collapse(buffer.pending()[0]);
  const [b] = batches(buffer);
  assert.equal(b.events.length, 1);
  assert.deepEqual(b.events[0].data, { tag: TAG_DROPPED, payload: { events: 3, bytes: size(1) + size(2) + size(3) } });
});

test('send state: unsent per channel, marks, beacon marks, acks', () => {
  const buffer = createBuffer(STREAM, marker);
  for (let id = 1; id <= 4; id++) { buffer.add(event(id)); buffer.flush(); }
  const seqs = (list) => list.map((b) => b.seq);
  const [one, two, three] = buffer.pending();
  const socketA = {};
  const socketB = {};
  buffer.markSent([one, two], socketA);
  assert.deepEqual(seqs(buffer.unsent(socketA)), [3, 4]);
  assert.deepEqual(seqs(buffer.unsent(socketB)), [1, 2, 3, 4], 'sent on a socket since closed: sent again');
  assert.ok(buffer.sentOn(one, socketA) && !buffer.sentOn(three, socketA));
  buffer.markUnsent([two]);
  assert.deepEqual(seqs(buffer.unsent(socketA)), [2, 3, 4]);

  buffer.markBeaconed([three, one]);
  assert.deepEqual(seqs(buffer.unbeaconed()), [2, 4]);
  buffer.markBeaconed([three], false);
  assert.deepEqual(seqs(buffer.unbeaconed()), [2, 3, 4]);

  buffer.ack(STREAM, 3, 1); // batch 3, and everything up to 1
  assert.deepEqual(seqs(buffer.pending()), [2, 4]);
  buffer.ack({ ...STREAM }, -1, 9); // another stream's acks
  assert.deepEqual(seqs(buffer.pending()), [2, 4]);
});

test('past the highest sequence number a window may use, batches go on in a new window of the same session', () => {
  const buffer = createBuffer(STREAM, marker, 3);
  for (let id = 1; id <= 5; id++) { buffer.add(event(id)); buffer.flush(); }
  const next = buffer.stream();
  assert.notEqual(next.window, STREAM.window);
  assert.match(next.window, new RegExp(ID_PATTERN));
  assert.deepEqual({ ...next, window: null }, { ...STREAM, window: null }, 'same session and secret');
  assert.deepEqual(buffer.pending().map((b) => [b.stream.window, b.seq]), [
    [STREAM.window, 1], [STREAM.window, 2], [STREAM.window, 3], [next.window, 1], [next.window, 2],
  ]);
});
