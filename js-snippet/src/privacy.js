// Every redaction the snippet applies lives here. Options can add to these
// rules but never lower them below the floor.

import { MASK, SECRET_NAME_PARTS } from './wire.js';

export const MAX_BODY_CHARS = 16 * 1024;
const MAX_HEADER_VALUE_CHARS = 1000;
const MAX_HEADERS = 50;

const DENIED_HEADERS = ['authorization', 'cookie', 'set-cookie', 'proxy-authorization'];
const DENIED_HEADER_PARTS = ['api-key', 'apikey', 'token', 'secret', 'session'];
const ALLOWED_HEADERS = ['x-replay-session'];

/** True when a header (any case) must never be recorded. */
export function isDeniedHeader(name) {
  const n = name.toLowerCase();
  if (ALLOWED_HEADERS.includes(n)) return false;
  return DENIED_HEADERS.includes(n) || DENIED_HEADER_PARTS.some((p) => n.includes(p));
}

/** [name, value] pairs -> {lower-case name: value} without denied headers. */
export function filterHeaders(pairs) {
  const out = {};
  let n = 0;
  for (const [name, value] of pairs) {
    if (n >= MAX_HEADERS) break;
    if (isDeniedHeader(name)) continue;
    out[name.toLowerCase()] = String(value).slice(0, MAX_HEADER_VALUE_CHARS);
    n++;
  }
  return out;
}

/** Cut a body to MAX_BODY_CHARS (null: there was no response). */
export function capBody(text) {
  const truncated = !!text && text.length > MAX_BODY_CHARS;
  return { responseBody: truncated ? text.slice(0, MAX_BODY_CHARS) : text, responseBodyTruncated: truncated };
}

/** rrweb masking options; passwords are masked whatever the options say. */
export function maskingOptions(opts) {
  const all = opts.maskAllInputs !== false;
  return {
    maskAllInputs: all,
    maskInputOptions: all ? undefined : { ...opts.maskInputOptions, password: true },
    blockClass: opts.blockClass || 'replay-block',
    blockSelector: opts.blockSelector || null,
    maskTextClass: opts.maskTextClass || 'replay-mask',
    maskTextSelector: opts.maskAllText ? '*' : opts.maskTextSelector || null,
  };
}

// Secrets in a call's URL query and request body: the same rules as replay/core/redact.py on the server, which
// runs them again. Names (query parameters, form fields, JSON keys) are secret by their parts (wire.js).
const PARTS = SECRET_NAME_PARTS.split(' ');
const LONG_PARTS = PARTS.filter((p) => p.length > 3);
const SHORT_PARTS = PARTS.filter((p) => p.length < 4);
const MAX_PARSE_CHARS = 64 * 1024;
const FORM = /^[^=&\s]+=[^&\s]*(&[^=&\s]+=[^&\s]*)*$/;

/** True when a name says its value is a secret (token, password, apiKey, card…; not "monkey"). */
export function isSecretName(name) {
  const n = name.toLowerCase();
  return LONG_PARTS.some((p) => n.includes(p)) ||
    name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase().split(/[^a-z0-9]+/).some((w) => SHORT_PARTS.includes(w));
}

const decode = (s) => { try { return decodeURIComponent(s.replace(/\+/g, ' ')); } catch { return s; } };
const luhn = (d) => {
  let t = 0;
  for (let i = 0; i < d.length; i++) {
    const x = d[d.length - 1 - i] * (i % 2 ? 2 : 1);
    t += x > 9 ? x - 9 : x;
  }
  return t % 10 === 0;
};

/** Card numbers (13-19 digits passing Luhn), bearer/basic credentials and JWTs in a text, masked. */
export function scrubText(s) {
  return s
    .replace(/(^|[^\d.])(\d(?:[ -]?\d){12,18})(?![\d.])/g, (m, a, run) => {
      const d = run.replace(/\D/g, '');
      return d.length > 12 && d.length < 20 && luhn(d) ? a + MASK : m;
    })
    .replace(/\b(Bearer|Basic|Token)(\s+)(?!\[masked\])[\w.~+/-]{8,}=*/gi, '$1$2' + MASK)
    .replace(/\beyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]*/g, MASK);
}

/** name=value&… with the values of secret names masked, the others scrubbed as text. */
export function maskForm(q) {
  return q.split('&').map((part) => {
    const i = part.indexOf('=');
    if (i < 0) return part;
    const name = part.slice(0, i);
    const value = part.slice(i + 1);
    return name + '=' + (value && value !== MASK && isSecretName(decode(name)) ? MASK : scrubText(value));
  }).join('&');
}

/** The URL with its secret query values masked (nothing re-encoded). */
export function maskQuery(url) {
  const h = url.indexOf('#');
  const head = h < 0 ? url : url.slice(0, h);
  const frag = url.slice(head.length);
  const q = head.indexOf('?');
  // A fragment of name=value pairs (OAuth's #access_token=…) is masked as a query is.
  return (q < 0 || q === head.length - 1 ? head : head.slice(0, q + 1) + maskForm(head.slice(q + 1)))
    + (frag.includes('=') ? '#' + maskForm(frag.slice(1)) : frag);
}

const walk = (v) => (Array.isArray(v) ? v.map(walk)
  : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).map((k) => [k, isSecretName(k) && v[k] !== null ? MASK : walk(v[k])]))
    : typeof v === 'string' ? scrubText(v)
      : typeof v === 'number' && Number.isInteger(v) && scrubText(String(v)) === MASK ? MASK : v);

// Secret-named "key": value and key=value pairs of text that is neither whole JSON nor a form.
const pairs = (s) => s
  .replace(/("((?:[^"\\]|\\.){1,100})"\s*:\s*)("(?:[^"\\]|\\.)*"?|[^,}\]\s]+)/g, (m, a, n) => (isSecretName(n) ? a + '"' + MASK + '"' : m))
  .replace(/(^|[&?;\s])([^=&?;\s]{1,100})=([^&;\s]*)/g, (m, a, n, v) => (v && isSecretName(decode(n)) ? a + n + '=' + MASK : m));

/** A request body as recorded: JSON by its keys, a form by its names, any text by its look; then cut. */
export function scrubBody(text) {
  let out = null;
  if (text.length <= MAX_PARSE_CHARS && /^\s*[[{]/.test(text)) {
    try {
      const parsed = JSON.parse(text);
      const json = JSON.stringify(walk(parsed));
      out = json === JSON.stringify(parsed) ? text : json;
    } catch { /* not JSON */ }
  }
  const src = out === null ? text.slice(0, MAX_BODY_CHARS + 64) : text; // past the cut: no secret cut in two
  if (out === null) out = FORM.test(src.trim()) ? maskForm(src) : scrubText(pairs(src));
  return {
    requestBody: out.slice(0, MAX_BODY_CHARS),
    requestBodyTruncated: text.length > MAX_BODY_CHARS || out.length > MAX_BODY_CHARS,
    requestBodyScrubbed: out !== src,
  };
}
