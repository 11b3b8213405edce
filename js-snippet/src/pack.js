// A denser form of rrweb's mutation events for the wire and storage. rrweb writes each change as an object
// ({"parentId":41415,"id":62284}); a busy page's folded second holds tens of thousands of them, mostly node
// ids close to the previous one's. Packed, each field is a column and each id the difference from the one
// before it in its column, which deflate (the socket's permessage-deflate, gzip in storage) then squeezes
// far better: bench/page_cost.py's table uploads less than half as much. The server unpacks it before any
// reader sees it (replay/core/mutations.py): stored sessions, the API and the player get rrweb's events.
//
// data: {source: 0, packed: 1,
//   t: [id, value, ...] texts,  a: [id, attributes, ...] attributes,
//   r: [id, ...], rp: [parentId, ...] removes,
//   n: [id, ...], np: [parentId, ...], nn: [nextId - id, or null, ...] adds, and per add nk, its node:
//     0: a text node whose text is next in nv; a string: an element of that tag, no children, whose
//     attributes are next in na; an object: any other node, as rrweb wrote it without its id}
// Every id in t, a, r, rp, n and np is written as the difference from the one before it in its column.
// An event with anything else in it (a shadow root's remove, an iframe attach) is sent as rrweb wrote it.
export const PACKED = 1;

const DATA_KEYS = new Set(['source', 'texts', 'attributes', 'removes', 'adds']);
const TEXT_KEYS = new Set(['type', 'textContent', 'id']);
const ELEMENT_KEYS = new Set(['type', 'tagName', 'attributes', 'childNodes', 'id']);

// rrweb leaves keys it has no value for as undefined (JSON drops them): those count as absent.
function only(o, keys) {
  for (const k in o) if (o[k] !== undefined && !keys.has(k)) return false;
  return true;
}

function ids(list, field, out) {
  let last = 0;
  for (const item of list) {
    const v = item[field];
    if (!Number.isInteger(v)) return false;
    out.push(v - last);
    last = v;
  }
  return true;
}

function pairs(list, field, out) {
  let last = 0;
  for (const item of list) {
    if (!Number.isInteger(item.id)) return false;
    out.push(item.id - last, item[field]);
    last = item.id;
  }
  return true;
}

function nodes(adds, d) {
  let lastId = 0;
  let lastParent = 0;
  for (const add of adds) {
    const node = add.node;
    if (add.previousId !== undefined || !node || !Number.isInteger(node.id) || !Number.isInteger(add.parentId)) return false;
    const next = add.nextId;
    if (next !== null && !Number.isInteger(next)) return false;
    d.n.push(node.id - lastId);
    d.np.push(add.parentId - lastParent);
    d.nn.push(next === null ? null : next - node.id);
    lastId = node.id;
    lastParent = add.parentId;
    if (node.type === 3 && typeof node.textContent === 'string' && only(node, TEXT_KEYS)) {
      d.nk.push(0);
      d.nv.push(node.textContent);
    } else if (node.type === 2 && typeof node.tagName === 'string' && Array.isArray(node.childNodes)
      && !node.childNodes.length && node.attributes && only(node, ELEMENT_KEYS)) {
      d.nk.push(node.tagName);
      d.na.push(node.attributes);
    } else {
      const rest = {};
      for (const k in node) if (k !== 'id' && node[k] !== undefined) rest[k] = node[k];
      d.nk.push(rest);
    }
  }
  return true;
}

/** The packed form of a mutation event, or the event itself where it cannot be packed. */
export function packMutation(event) {
  const m = event.data;
  if (!m || !only(m, DATA_KEYS) || !Array.isArray(m.texts) || !Array.isArray(m.attributes)
    || !Array.isArray(m.removes) || !Array.isArray(m.adds)) return event;
  for (const r of m.removes) if (r.isShadow) return event;
  const d = { source: m.source, packed: PACKED, t: [], a: [], r: [], rp: [], n: [], np: [], nn: [], nk: [], nv: [], na: [] };
  if (!pairs(m.texts, 'value', d.t) || !pairs(m.attributes, 'attributes', d.a) || !ids(m.removes, 'id', d.r)
    || !ids(m.removes, 'parentId', d.rp) || !nodes(m.adds, d)) return event;
  return { ...event, data: d };
}
