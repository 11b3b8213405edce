// Packed mutation events: columns of id differences instead of one object per change (src/pack.js). The
// server unpacks them (replay/core/mutations.py; tests/core/test_mutations.py checks that it gives back rrweb's
// events from what this packs); here: what is packed, and what is left as rrweb wrote it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { packMutation, PACKED } from '../src/pack.js';

const mutation = (data) => ({ type: 3, timestamp: 1700000000000, data: { source: 0, texts: [], attributes: [], removes: [], adds: [], ...data } });

test('a mutation becomes columns, each id the difference from the one before it in its column', () => {
  const packed = packMutation(mutation({
    texts: [{ id: 10, value: 'a' }, { id: 12, value: null }],
    attributes: [{ id: 7, attributes: { class: 'hot' } }, { id: 5, attributes: { style: { color: 'red' } } }],
    removes: [{ parentId: 40, id: 41, isShadow: undefined }, { parentId: 42, id: 45 }],
    adds: [
      { parentId: 14, nextId: null, node: { type: 2, tagName: 'tr', attributes: { class: 'r1' }, childNodes: [], id: 100, rootId: undefined } },
      { parentId: 100, nextId: null, node: { type: 2, tagName: 'td', attributes: {}, childNodes: [], id: 101 } },
      { parentId: 101, nextId: 99, node: { type: 3, textContent: 'v1.2', id: 102, rootId: undefined } },
      { parentId: 100, nextId: 101, node: { type: 5, textContent: 'a comment', id: 103 } },
      { parentId: 100, nextId: null, node: { type: 2, tagName: 'svg', attributes: {}, childNodes: [], isSVG: true, id: 104 } },
    ],
  }));
  assert.equal(packed.type, 3);
  assert.equal(packed.timestamp, 1700000000000);
  assert.deepEqual(packed.data, {
    source: 0, packed: PACKED,
    t: [10, 'a', 2, null], a: [7, { class: 'hot' }, -2, { style: { color: 'red' } }],
    r: [41, 4], rp: [40, 2],
    n: [100, 1, 1, 1, 1], np: [14, 86, 1, -1, 0], nn: [null, null, -3, -2, null],
    nk: ['tr', 'td', 0, { type: 5, textContent: 'a comment' }, { type: 2, tagName: 'svg', attributes: {}, childNodes: [], isSVG: true }],
    nv: ['v1.2'], na: [{ class: 'r1' }, {}],
  });
});

test('packing is much smaller as JSON for a table rewritten in place', () => {
  const adds = [];
  const removes = [];
  for (let i = 0; i < 1000; i++) {
    removes.push({ parentId: 5000 + 2 * i, id: 20000 + i });
    adds.push({ parentId: 5000 + 2 * i, nextId: null, node: { type: 3, textContent: 'v2.' + i, id: 30000 + i } });
  }
  const event = mutation({ removes, adds });
  const packed = JSON.stringify(packMutation(event)).length;
  assert.ok(packed * 2.5 < JSON.stringify(event).length, `packed ${packed}`);
});

test('what it cannot pack goes as rrweb wrote it', () => {
  for (const data of [
    { removes: [{ parentId: 1, id: 2, isShadow: true }] },
    { isAttachIframe: true },
    { adds: [{ parentId: 1, nextId: null, previousId: 3, node: { type: 3, textContent: 'x', id: 4 } }] },
    { adds: [{ parentId: 1, nextId: 'x', node: { type: 3, textContent: 'x', id: 4 } }] },
    { texts: [{ id: 1.5, value: 'x' }] },
  ]) {
    const event = mutation(data);
    assert.equal(packMutation(event), event);
  }
});
