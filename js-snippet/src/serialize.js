// Turns anything a page may log into short, JSON-safe values. Never throws.

export const MAX_STRING_CHARS = 2000;
export const MAX_ARGS = 20;
const MAX_DEPTH = 4;
const MAX_KEYS = 50;
const MAX_NODES = 500;

const cut = (s, n = MAX_STRING_CHARS) => (s.length > n ? s.slice(0, n) + '…' : s);

/** "<div#id.a.b>" for elements, a short label for other DOM nodes. */
export function nodeLabel(node) {
  if (node.nodeType !== 1) return node.nodeType === 3 ? '#text "' + cut(node.textContent, 100) + '"' : node.nodeName;
  let s = '<' + node.tagName.toLowerCase();
  if (node.id) s += '#' + node.id;
  const cls = typeof node.className === 'string' ? node.className.trim() : '';
  if (cls) s += '.' + cls.split(/\s+/).join('.');
  return s + '>';
}

// Duck-typed so nodes and errors from other frames count too.
const isNode = (v) => typeof v.nodeType === 'number' && typeof v.nodeName === 'string';
const isError = (v) => v instanceof Error || (typeof v.message === 'string' && typeof v.stack === 'string');

/** "Name: message" plus the stack, whichever engine formatted it. */
export function errorText(e) {
  const head = e.name + ': ' + e.message;
  const stack = typeof e.stack === 'string' ? e.stack : '';
  return stack.includes(head) ? stack : stack ? head + '\n' + stack : head;
}

/** A JSON-safe copy of `value`: cycles, DOM nodes, errors, depth and size capped. */
export function toSafe(value) {
  const ancestors = new Set();
  let budget = MAX_NODES;
  const walk = (v, depth) => {
    switch (typeof v) {
      case 'string': return cut(v);
      case 'number': return isFinite(v) ? v : String(v);
      case 'boolean': return v;
      case 'function': return '[Function ' + (v.name || 'anonymous') + ']';
      case 'object': break;
      default: return '[' + String(v) + ']'; // undefined, bigint, symbol
    }
    if (v === null) return null;
    if (isNode(v)) return nodeLabel(v);
    if (isError(v)) return cut(errorText(v));
    if (ancestors.has(v)) return '[Circular]';
    if (--budget < 0 || depth >= MAX_DEPTH) return Array.isArray(v) ? '[Array(' + v.length + ')]' : '[Object]';
    ancestors.add(v);
    let out;
    if (Array.isArray(v)) {
      out = v.slice(0, MAX_KEYS).map((x) => walk(x, depth + 1));
      if (v.length > MAX_KEYS) out.push('… ' + (v.length - MAX_KEYS) + ' more');
    } else {
      out = {};
      const keys = Object.keys(v);
      for (const k of keys.slice(0, MAX_KEYS)) {
        try { out[k] = walk(v[k], depth + 1); } catch { out[k] = '[Thrown]'; }
      }
      if (keys.length > MAX_KEYS) out['…'] = keys.length - MAX_KEYS + ' more';
    }
    ancestors.delete(v);
    return out;
  };
  try { return walk(value, 0); } catch { return '[Unserializable]'; }
}

/** One console argument as a string (objects as JSON). */
export function argToString(value) {
  if (typeof value === 'string') return cut(value);
  if (value === undefined) return 'undefined';
  const safe = toSafe(value);
  return cut(typeof safe === 'string' ? safe : JSON.stringify(safe));
}

/** Console arguments as strings, at most MAX_ARGS of them. */
export function serializeArgs(args) {
  const out = [];
  for (let i = 0; i < args.length && i < MAX_ARGS; i++) out.push(argToString(args[i]));
  if (args.length > MAX_ARGS) out.push('… ' + (args.length - MAX_ARGS) + ' more');
  return out;
}
