// Every redaction the snippet applies lives here. Options can add to these
// rules but never lower them below the floor.

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
