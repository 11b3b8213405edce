// Rage and dead clicks, with a hand-driven clock and a minimal stand-in for the page's DOM.
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { startFrustration, DEAD_MS, RAGE_GAP_MS } from '../src/frustration.js';
import { TAG_FRUSTRATION } from '../src/wire.js';

class FakeElement {
  constructor(tag, { id = '', cls = [], text = '', clickable = false, masked = false } = {}) {
    Object.assign(this, { tagName: tag.toUpperCase(), id, innerText: text, clickable, masked, classList: cls });
  }
  getAttribute() { return null; }
  closest(sel) { return sel.includes('replay-mask') ? (this.masked ? this : null) : (this.clickable ? this : null); }
}

function page() {
  const listeners = {};
  globalThis.Element = FakeElement;
  globalThis.document = {
    addEventListener: (t, fn) => { listeners[t] = fn; },
    removeEventListener: (t) => { delete listeners[t]; },
  };
  globalThis.window = { addEventListener() {}, removeEventListener() {} };
  return { click: (target, x = 10, y = 10) => listeners.click({ target, clientX: x, clientY: y }) };
}

function start(maskAllText = false) {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1000 });
  const { click } = page();
  const sent = [];
  const f = startFrustration((tag, payload, urgent, ts) => sent.push({ tag, ts, ...payload }), maskAllText);
  return { click, sent, f, tick: (ms) => mock.timers.tick(ms) };
}

test('three quick clicks on one spot are one rage click, sent when the burst ends', (t) => {
  t.after(() => mock.timers.reset());
  const { click, sent, f, tick } = start();
  const button = new FakeElement('button', { id: 'save', text: 'Save', clickable: true });
  click(button); tick(200); click(button, 14, 12); tick(200); click(button, 12, 8); tick(200); click(button);
  f.activity(); // the first click started a call: not dead
  tick(RAGE_GAP_MS + 10);
  assert.deepEqual(sent.map((e) => [e.tag, e.kind, e.count, e.ts]), [[TAG_FRUSTRATION, 'rage', 4, 1000]]);
  assert.equal(sent[0].target, 'button#save "Save"');
  f.stop();
});

test('clicks far apart, in time or on the page, are no rage click', (t) => {
  t.after(() => mock.timers.reset());
  const { click, sent, f, tick } = start();
  const div = new FakeElement('div');
  click(div, 0, 0); tick(300); click(div, 200, 0); tick(300); click(div, 400, 0);
  tick(RAGE_GAP_MS + 1); click(div); tick(RAGE_GAP_MS + 1); click(div);
  tick(RAGE_GAP_MS * 3);
  assert.deepEqual(sent, []); // and a plain div is not clickable: no dead click either
  f.stop();
});

test('a click on a link that changes nothing is a dead click; one that changes the DOM is not', (t) => {
  t.after(() => mock.timers.reset());
  const { click, sent, f, tick } = start();
  const link = new FakeElement('a', { id: 'more', text: 'More', clickable: true });
  click(link);
  tick(DEAD_MS + 1);
  tick(RAGE_GAP_MS);
  click(link); tick(100); f.activity(); tick(DEAD_MS);
  assert.deepEqual(sent.map((e) => [e.kind, e.ts, e.target]), [['dead', 1000, 'a#more "More"']]);
  f.stop();
});

test('masked text never leaves the page in a target', (t) => {
  t.after(() => mock.timers.reset());
  const { click, sent, f, tick } = start(true);
  click(new FakeElement('button', { id: 'pay', text: 'Pay 4242 4242', clickable: true }));
  tick(DEAD_MS + RAGE_GAP_MS);
  assert.equal(sent[0].target, 'button#pay');
  f.stop();
  mock.timers.reset();
  const other = start();
  other.click(new FakeElement('button', { text: 'secret', clickable: true, masked: true }));
  other.tick(DEAD_MS + RAGE_GAP_MS);
  assert.equal(other.sent[0].target, 'button');
  other.f.stop();
});
