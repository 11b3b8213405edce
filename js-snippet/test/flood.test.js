// The flood guard: a second over its limits drops the rest of its mutations, then marks the gap (and a snapshot follows).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createFlood, FLOOD_BYTES, FLOOD_EVENTS, MAX_PAUSE_MS } from '../src/flood.js';

function clock() {
  const c = { t: 10000, timers: [], gaps: [] };
  c.gate = createFlood((n) => c.gaps.push([c.t, n]), () => c.t, (f, ms) => c.timers.push([c.t + ms, f]));
  c.at = (t) => { // time passes to t, running the timers due
    c.t = t;
    c.timers.filter(([due]) => due <= t).forEach(([, f]) => f());
    c.timers = c.timers.filter(([due]) => due > t);
  };
  return c;
}

test('mutations under the limits all pass, second after second', () => {
  const c = clock();
  for (let s = 0; s < 5; s++) {
    c.at(10000 + s * 1000);
    for (let i = 0; i < 10; i++) assert.equal(c.gate(FLOOD_BYTES / 20), false);
  }
  assert.deepEqual(c.gaps, []);
});

test('past the bytes of a second, its other mutations are dropped; the gap is marked when the second ends', () => {
  const c = clock();
  c.at(10000);
  assert.equal(c.gate(FLOOD_BYTES / 2), false);
  c.at(10400);
  assert.ok(c.gate(FLOOD_BYTES / 2 + 1)); // the one over the limit goes too
  c.at(10700);
  assert.ok(c.gate(10));
  assert.ok(c.gate(10));
  assert.deepEqual(c.gaps, []);
  c.at(11000);
  assert.deepEqual(c.gaps, [[11000, 3]]);
  assert.equal(c.gate(10), false); // recording again
});

test('too many mutation events in a second count as a flood too', () => {
  const c = clock();
  c.at(10000);
  for (let i = 0; i < FLOOD_EVENTS; i++) assert.equal(c.gate(1), false);
  assert.ok(c.gate(1));
});

test('floods back to back double the pause, up to its cap; a calm second resets it', () => {
  const c = clock();
  const pauses = [];
  let t = 10000;
  c.at(t);
  for (let i = 0; i < 8; i++) {
    c.gate(FLOOD_BYTES + 1); // a flood as soon as recording resumes
    const [due] = c.timers[0];
    pauses.push(due - c.t);
    c.at((t = due));
  }
  assert.deepEqual(pauses, [1000, 2000, 4000, 8000, 16000, 32000, 32000, 32000].map((p) => Math.min(p, MAX_PAUSE_MS)));
  c.at(t + 1500); // a calm second
  assert.equal(c.gate(10), false);
  c.gate(FLOOD_BYTES);
  assert.equal(c.timers[0][0] - c.t, 1000);
});
