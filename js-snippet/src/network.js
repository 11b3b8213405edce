// One `replay.network` event per finished fetch/XHR call (calls.js wraps them),
// with headers and body only for failed ones; also the calls the loader queued
// before the snippet came, and those made before anything wrapped fetch/XHR,
// recovered from resource timing (timing.js).
import { filterHeaders, capBody, maskQuery, scrubBody, MAX_BODY_CHARS } from './privacy.js';
import { wrapCalls, correlated } from './calls.js';
import { timingOf, recoverCalls, ms } from './timing.js';
import { TAG_NETWORK } from './wire.js';

// No request bodies (a capture that was told so: capture.js).
const NO_CAPTURE = { known: () => true, wants: () => false, when: (fn) => fn() };
const MAX_READ_BYTES = 1024 * 1024;
const READ_TIMEOUT_MS = 5000;
const BINARY_TYPE = /^(image|audio|video|font)\/|octet|zip|pdf|proto|wasm/;
// A successful call's timing entry is in once its body is (the page mostly reads it just after the
// answer): look again after each of these waits, then send it without.
const TIMING_WAITS_MS = [50, 250, 1000];

// Read at most MAX_READ_BYTES of a (cloned) body; keep the first MAX_BODY_CHARS as text.
async function readText(body) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const timer = setTimeout(() => reader.cancel().catch(() => {}), READ_TIMEOUT_MS);
  let text = '';
  let bytes = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      if (text.length <= MAX_BODY_CHARS) text += decoder.decode(value, { stream: true });
      if (bytes > MAX_READ_BYTES) { reader.cancel().catch(() => {}); break; }
    }
  } finally {
    clearTimeout(timer);
  }
  return { text, bytes };
}

// A request body as text (or a promise of it): forms as name=value&…, binary ones named only.
const bodyText = (q) => (q == null || typeof q === 'string' || q.then ? q
  : q instanceof URLSearchParams ? String(q)
    : typeof FormData === 'function' && q instanceof FormData
      ? [...q].map(([k, v]) => encodeURIComponent(k) + '=' + (typeof v === 'string' ? encodeURIComponent(v) : '[file]')).join('&')
      : '[' + ((q.constructor && q.constructor.name) || 'binary') + ' body]');

// What a call sends (init.body, a Request's body, xhr.send's argument), kept in case it fails and the
// collector wants it (`capture`, capture.js): a Request's body must be copied before fetch takes it.
function keepBody(capture, c, a, req) {
  if (capture.known() && !capture.wants(c.u)) return;
  const q = c.k === 'xhr' ? a[0] : a && a.body != null ? a.body : req;
  if (typeof Request === 'function' && q instanceof Request) {
    if (capture.wants(c.u) && !/^(GET|HEAD)$/.test(q.method)) c.q = q.clone().text().catch(() => '[unreadable body]');
  } else c.q = q;
}

/**
 * Record fetch/XHR calls; `sessionId()` gives the correlation header's value
 * (`correlation` false: none; `paths` limits it, see calls.js). Calls to
 * `endpoint`/ingest are neither recorded nor tagged. `early` is the loader's
 * hand-over (early.js), or null; `capture` (capture.js) which request bodies to keep. Returns stop.
 */
export function startNetwork({ emit, endpoint, sessionId, correlation, paths, early, capture = NO_CAPTURE, onStart, leaving }) {
  let active = true;
  const ingest = endpoint + '/ingest';
  const ours = (u) => u.startsWith(ingest);
  const tag = correlated(correlation, paths);
  const send = (payload) => active && emit(TAG_NETWORK, payload, payload.failed, Math.round(payload.startTime + payload.duration));

  // A successful call, with its timing once the browser has it (sent as it is if the page goes first).
  const withTiming = (payload, c) => {
    let waits = 0;
    let timer = 0;
    let off = () => {};
    const go = () => {
      clearTimeout(timer);
      off();
      send({ ...payload, ...timingOf(c.u, c.p) });
    };
    const look = () => (timingOf(c.u, c.p).timing || waits >= TIMING_WAITS_MS.length ? go() : (timer = setTimeout(look, TIMING_WAITS_MS[waits++])));
    if (leaving) off = leaving.add(go);
    look();
  };

  // A call record (calls.js) as its event; a failed one's body may take a while to read.
  const finish = (c) => {
    // A call the page's unload cut off failed nowhere: it is listed, not counted.
    const failed = c.st ? c.st >= 400 : c.x !== 'unload';
    const payload = {
      method: c.m,
      url: maskQuery(c.u),
      status: c.st,
      statusText: c.sx || '',
      initiator: c.k,
      startTime: c.s,
      duration: ms(c.e - c.p),
      failed,
      error: c.x || null,
    };
    if (!failed) return c.cut ? send(payload) : withTiming(payload, c); // the page is going: now
    payload.requestHeaders = filterHeaders(c.h);
    payload.responseHeaders = filterHeaders(c.rh || []);
    payload.responseSize = c.z === undefined ? null : c.z;
    // Resource timing has the call once its body is in (where it has it at all). The request body goes
    // only where the collector asked for it (it drops any other, and scrubs again).
    const out = (text) => capture.when(() => Promise.resolve(capture.wants(c.u) ? bodyText(c.q) : null)
      .then((q) => send({ ...payload, ...capBody(text), ...timingOf(c.u, c.p), ...(typeof q === 'string' && scrubBody(q)) })));
    if (!c.r) return out(c.st ? c.b || '' : null);
    const type = c.rh.get('content-type') || '';
    const length = c.rh.get('content-length');
    payload.responseSize = length ? +length : 0;
    if (BINARY_TYPE.test(type) || !c.r.body) return out(c.r.body ? '[' + type + ' body]' : '');
    readText(c.r.body).then(
      (r) => { payload.responseSize = r.bytes; out(r.text); },
      () => { payload.responseSize = length ? +length : null; out('[unreadable body]'); },
    );
  };
  const safely = (c) => { try { finish(c); } catch { /* never break the page */ } };
  // Calls in flight when the page is left are recorded then, cut off by the unload (an XHR's own end
  // may never come); one that ends after all is not recorded twice.
  const inFlight = new Set();
  let leftAt = 0; // beforeunload: the browser may cancel calls before pagehide comes
  const leave = () => { leftAt = Date.now(); };
  addEventListener('beforeunload', leave);
  const ended = (c) => {
    if (c.cut) return;
    inFlight.delete(c);
    if (!c.st && c.x === 'network' && Date.now() - leftAt < 3000) c.x = 'unload';
    safely(c);
  };
  const cutOff = () => {
    inFlight.forEach((c) => {
      c.cut = true;
      safely({ ...c, st: 0, x: 'unload', e: performance.now() });
    });
    inFlight.clear();
  };

  const begin = (c, a, req) => {
    if (ours(c.u)) return false;
    try { if (onStart) onStart(); } catch { /* never break the page */ }
    try { keepBody(capture, c, a, req); } catch { /* recorded without its body */ }
    inFlight.add(c);
    return true;
  };
  const tagged = (u) => !ours(u) && tag(u);
  const stops = [];
  if (early && early.live) {
    // The loader's wrappers stay (a library may hold its fetch) and record through its hooks.
    Object.assign(early, { t: tagged, s: sessionId, b: begin });
    stops.push(() => Object.assign(early, { t: () => false, b: () => false }));
  } else stops.push(wrapCalls({ tagged, sessionId, begin, end: ended }));
  if (leaving) stops.push(leaving.add(cutOff, true));
  stops.push(() => removeEventListener('beforeunload', leave));
  // Everything that starts from now on goes through our wrappers.
  const wrappedAt = performance.now();
  const queued = early ? early.q.filter((r) => r.k) : [];
  if (early) {
    queued.forEach((c) => (c.e ? safely(c) : inFlight.add(c)));
    early.d = ended; // calls still in flight end here
  }
  stops.push(recoverCalls(wrappedAt, queued, send));
  return () => {
    active = false;
    stops.forEach((s) => s());
  };
}
