// Record on failure: the rolling buffer keeps the events from the second-to-last checkout on, so the
// context before a failure is never shorter than the window; what starts the upload; the choice per session.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventType } from '@rrweb/types';
import { createBuffer, MAX_BATCH_BYTES } from '../src/buffer.js';
import { createRolling, triggers, fullChoice } from '../src/onfailure.js';
import { TAG_ERROR, TAG_NETWORK, TAG_CONSOLE } from '../src/wire.js';
import { STREAM, marker } from './fakes.js';

const WINDOW_MS = 30000;
const STEP_MS = 250;

// The batches as the transport would send them once triggered.
function sent(buffer) {
  buffer.flush();
  return buffer.pending().map((b) => ({ seq: b.seq, events: JSON.parse('[' + buffer.eventsJSON(b) + ']') }));
}

// A page: rrweb's checkout (Meta, then FullSnapshot) every WINDOW_MS, an interaction every STEP_MS,
// fat enough that the buffer cuts many batches. Calls `look(now)` after each event.
function page(ms, look) {
  const buffer = createBuffer(STREAM, marker);
  const rolling = createRolling(buffer);
  const add = (e) => { rolling(e); buffer.add(e, false); };
  // What the loader queued before rrweb started: older than any checkout.
  add({ type: EventType.Custom, timestamp: -500, data: { tag: TAG_NETWORK, payload: { early: true } } });
  for (let t = 0; t <= ms; t += STEP_MS) {
    if (t % WINDOW_MS === 0) {
      add({ type: EventType.Meta, timestamp: t, data: { href: 'https://site.test/' } });
      add({ type: EventType.FullSnapshot, timestamp: t, data: { node: 'x'.repeat(20000) } });
    }
    add({ type: EventType.IncrementalSnapshot, timestamp: t, data: { source: 2, pad: 'y'.repeat(3000) } });
    look(buffer, t);
  }
  return buffer;
}

test('the buffer keeps the events from the second-to-last checkout on: never less than the window', () => {
  let checked = 0;
  page(130000, (buffer, now) => {
    const batches = sent(buffer);
    const events = batches.flatMap((b) => b.events);
    const first = events[0];
    const lastCheckout = Math.floor(now / WINDOW_MS) * WINDOW_MS;
    const expectedStart = Math.max(0, lastCheckout - WINDOW_MS);
    if (now >= WINDOW_MS) {
      assert.equal(first.type, EventType.Meta, `at ${now} ms the buffer starts at a checkout`);
      assert.equal(first.timestamp, expectedStart, `at ${now} ms it starts at the second-to-last checkout`);
      assert.ok(now - first.timestamp >= WINDOW_MS, `at ${now} ms it holds ${now - first.timestamp} ms`);
      assert.ok(now - first.timestamp < 2 * WINDOW_MS, 'and never more than two windows');
      assert.ok(!events.some((e) => e.data && e.data.payload && e.data.payload.early), 'what came before goes too');
      checked++;
    }
    assert.deepEqual(batches.map((b) => b.seq), batches.map((_, i) => i + 1), 'batches numbered from 1, no gap');
    const times = events.map((e) => e.timestamp);
    assert.deepEqual(times, [...times].sort((a, b) => a - b), 'in order, nothing in between lost');
    const steps = events.filter((e) => e.type === EventType.IncrementalSnapshot).length;
    assert.equal(steps, (now - Math.max(first.timestamp, 0)) / STEP_MS + 1, 'nothing in between lost');
  });
  assert.ok(checked > 300);
});

test('trimmed batches stay within the batch size, and the buffer size comes down with them', () => {
  const buffer = page(125000, () => {});
  const batches = sent(buffer);
  assert.ok(batches.length > 5, `${batches.length} batches`);
  for (const b of batches) assert.ok(JSON.stringify(b.events).length <= MAX_BATCH_BYTES + 2);
  const held = batches.reduce((n, b) => n + JSON.stringify(b.events).length, 0);
  // From 90 s to 125 s: 35 s of 4 events a second of ~3 KB, and two snapshots of 20 KB.
  assert.ok(held < (35 * 4 + 2) * 3100 + 2 * 20100 + 10000, `${held} bytes held`);
});

test('new batches after the trim go on numbering where the kept ones end', () => {
  const buffer = page(61000, () => {});
  const before = sent(buffer).length;
  buffer.add({ type: 3, timestamp: 61500, data: { source: 2, pad: 'z'.repeat(60000) } }, false);
  const after = sent(buffer);
  assert.deepEqual(after.map((b) => b.seq), after.map((_, i) => i + 1));
  assert.equal(after.length, before + 1);
});

test('what starts the upload: an uncaught error, a 5xx, a call with no answer; 4xx only when asked', () => {
  const call = (status, error = null, failed = true) => ({ status, error, failed });
  assert.ok(triggers(TAG_ERROR, { message: 'boom' }, false));
  assert.ok(triggers(TAG_NETWORK, call(502), false));
  assert.ok(triggers(TAG_NETWORK, call(500), false));
  assert.ok(triggers(TAG_NETWORK, call(0, 'network'), false));
  assert.ok(triggers(TAG_NETWORK, call(0, 'timeout'), false));
  assert.ok(!triggers(TAG_NETWORK, call(0, 'abort'), false), 'the page aborted it itself');
  assert.ok(!triggers(TAG_NETWORK, call(0, 'unload', false), false), 'cut off by leaving the page');
  assert.ok(!triggers(TAG_NETWORK, call(404), false));
  assert.ok(triggers(TAG_NETWORK, call(404), true));
  assert.ok(!triggers(TAG_NETWORK, call(200, null, false), true));
  assert.ok(!triggers(TAG_CONSOLE, { level: 'error' }, true));
});

test('the choice to record in full is kept per session', () => {
  const m = {};
  const store = { getItem: (k) => m[k], setItem: (k, v) => { m[k] = String(v); } };
  const choice = fullChoice(store);
  assert.equal(choice.get('s1'), undefined);
  choice.set('s1', false);
  assert.equal(fullChoice(store).get('s1'), false, 'a later page of the session finds it');
  assert.equal(fullChoice(store).get('s2'), undefined, 'a new session decides again');
  choice.set('s1', true);
  assert.equal(fullChoice(store).get('s1'), true);
});
