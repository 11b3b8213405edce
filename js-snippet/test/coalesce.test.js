// Coalescing: after a mutation event rrweb's mutation buffers are frozen for at most HOLD_MS, then released by a
// no-op event (rrweb emits what it holds before any other event); the snippet's own events release them first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCoalesce, HOLD_MS, TAG_FLUSH } from '../src/coalesce.js';

function setup() {
  const log = [];
  const timers = new Map();
  let next = 1;
  const leaving = { due: new Set(), add(fn) { this.due.add(fn); return () => this.due.delete(fn); } };
  const rec = { freezePage: () => log.push('freeze'), addCustomEvent: (tag) => log.push(tag) };
  const later = (fn, ms) => { timers.set(next, [fn, ms]); return next++; };
  const clear = (id) => timers.delete(id);
  const c = createCoalesce(rec, leaving, later, clear);
  const fire = () => [...timers].forEach(([id, [fn]]) => { timers.delete(id); fn(); });
  return { c, log, timers, leaving, fire };
}

test('mutation events hold the next ones for HOLD_MS, with one timer, then release them once', () => {
  const { c, log, timers, leaving, fire } = setup();
  c.held();
  c.held();
  assert.deepEqual(log, ['freeze', 'freeze']);
  assert.equal(timers.size, 1);
  assert.equal([...timers.values()][0][1], HOLD_MS);
  assert.equal(leaving.due.size, 1); // a page left meanwhile sends what is held
  fire();
  assert.deepEqual(log, ['freeze', 'freeze', TAG_FLUSH]);
  assert.equal(leaving.due.size, 0);
  c.flush(); // nothing held: nothing to release
  assert.deepEqual(log, ['freeze', 'freeze', TAG_FLUSH]);
});

test("the snippet's own event releases what is held at once, and the timer goes", () => {
  const { c, log, timers } = setup();
  c.held();
  c.flush();
  assert.deepEqual(log, ['freeze', TAG_FLUSH]);
  assert.equal(timers.size, 0);
  c.held(); // the released mutations' event: held again, on a new timer
  assert.equal(timers.size, 1);
});

test('not recording: nothing is held', () => {
  const leaving = { add: () => assert.fail('nothing to release') };
  const c = createCoalesce({ freezePage() { throw new Error('not recording'); } }, leaving, () => assert.fail('no timer'));
  c.held();
  c.flush();
});
