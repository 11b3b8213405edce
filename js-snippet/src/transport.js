// Owns the connection to the collector: WebSocket with hello/ready/batch/ack,
// capped exponential backoff with full jitter, HTTP POST when WebSocket does
// not work, and beacons when the page goes away. Never logs, never throws.
import {
  PROTOCOL_VERSION, CLOSE_TOO_LARGE, CLOSE_INVALID, CLOSE_FORBIDDEN, CLOSE_UNSUPPORTED_VERSION, CLOSE_RATE_LIMITED,
  MAX_MESSAGE_BYTES, MAX_HTTP_BATCH_BYTES, MAX_BATCHES_PER_REQUEST, MAX_URL_CHARS, MAX_UA_CHARS,
} from './wire.js';
import { canGzip, gzip, gunzip } from './compress.js';
import { byteLength } from './buffer.js';

export const FLUSH_INTERVAL_MS = 2000;
const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 30000;
const WS_TRIES_BEFORE_HTTP = 3;
const READY_TIMEOUT_MS = 10000; // an open socket that never says ready counts as a failure
const GZIP_MIN_CHARS = 1024;
// All sizes in UTF-8 bytes.
const MAX_FRAME_BYTES = Math.floor(MAX_MESSAGE_BYTES * 0.95); // a margin under the collector's limit
const MAX_BEACON_BYTES = 56 * 1024; // browsers allow 64 KiB of beacons in flight
const MAX_POST_BYTES = MAX_HTTP_BATCH_BYTES / 2; // before gzip: a group fits even where the browser cannot gzip
// Half the collector's limit: a request is refused whole, so stay well clear of it.
const MAX_GROUP_BATCHES = MAX_BATCHES_PER_REQUEST / 2;
// Refusals that would only repeat (protocol.md): stop sending altogether.
const FATAL_CLOSE_CODES = [CLOSE_INVALID, CLOSE_FORBIDDEN, CLOSE_UNSUPPORTED_VERSION];
const FATAL_HTTP_STATUS = [400, 403, 426];
const POSTING = -2;

/** Connects to `endpoint` and sends `buffer`'s batches; returns {kick, stop}. */
export function startTransport({ endpoint, key, buffer, onFatal }) {
  const nativeFetch = window.fetch; // captured before network.js wraps it
  const httpUrl = endpoint + '/ingest/batch';
  let http = typeof WebSocket !== 'function';
  let ws = null;
  let gen = 0; // socket generation: a batch is sent once per socket
  let helloStream = null; // stream of the last hello sent
  let ackStream = null; // stream of the last ready received: acks belong to it
  let ready = false;
  let attempt = 0;
  let wsFailures = 0;
  let posting = false;
  let postLimit = MAX_POST_BYTES; // halved by each 413 on a group of several batches
  let retryTimer = 0;
  let urgentTimer = 0;
  let dead = false;
  let sendChain = Promise.resolve();
  let readChain = Promise.resolve();

  const page = () => ({ url: location.href.slice(0, MAX_URL_CHARS), ua: navigator.userAgent.slice(0, MAX_UA_CHARS) });
  const unsent = (b) => (http ? b.sock !== POSTING : b.sock !== gen);
  const batchJSON = (b) => '{"seq":' + b.seq + ',"events":[' + buffer.eventsJSON(b) + ']}';
  const head = (s) => JSON.stringify({ v: PROTOCOL_VERSION, key, session: s.session, window: s.window, ...page() }).slice(0, -1) + ',"batches":[';
  const envelope = (group) => head(group[0].stream) + group.map(batchJSON).join(',') + ']}';
  const encode = (text) => (text.length >= GZIP_MIN_CHARS && canGzip() ? gzip(text) : Promise.resolve(text));
  const close = (sock) => {
    ws = null;
    // Closing a socket that is still connecting makes the browser log an error.
    if (sock.readyState) sock.close(1000);
    else sock.onopen = () => sock.close(1000);
  };
  const size = (data) => (typeof data === 'string' ? byteLength(data) : data.byteLength);

  // Runs of batches of one stream, each group's envelope under `limit` bytes
  // (`group.bytes`, an upper bound) unless it is one batch that alone is over.
  function groups(list, limit) {
    const out = [];
    let cur = null;
    for (const b of list) {
      const n = b.bytes + 40; // with {"seq":N,"events":[…]},
      if (!cur || cur[0].stream !== b.stream || cur.bytes + n > limit || cur.length >= MAX_GROUP_BATCHES) {
        out.push((cur = []));
        cur.bytes = byteLength(head(b.stream)) + 2;
      }
      cur.push(b);
      cur.bytes += n;
    }
    return out;
  }

  function schedule() {
    if (dead || retryTimer) return;
    const delay = Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.min(attempt++, 16));
    retryTimer = setTimeout(() => {
      retryTimer = 0;
      http ? post() : connect();
    }, delay);
  }

  function fatal() {
    if (dead) return;
    dead = true;
    try { onFatal(); } catch { /* nothing more to do */ }
  }

  // Sends go through one chain so that async gzip never reorders frames.
  function send(sock, build, batch) {
    sendChain = sendChain
      .then(() => encode(build()))
      .then((data) => {
        if (batch && size(data) > MAX_FRAME_BYTES) {
          buffer.collapse(batch);
          return encode(build());
        }
        return data;
      })
      .then((data) => { if (sock.readyState === 1) sock.send(data); })
      .catch(() => {});
  }

  function hello(stream) {
    helloStream = stream;
    ready = false;
    const msg = { type: 'hello', v: PROTOCOL_VERSION, key, session: stream.session, window: stream.window, ...page(), ts: Date.now() };
    send(ws, () => JSON.stringify(msg));
  }

  function onMessage(sock, msg) {
    if (sock !== ws || !msg) return;
    if (msg.type === 'ready') {
      ready = true;
      ackStream = helloStream;
      attempt = 0;
      wsFailures = 0;
      buffer.ack(ackStream, -1, msg.acked | 0);
      pump();
    } else if (msg.type === 'ack') {
      buffer.ack(ackStream, msg.seq, msg.acked | 0);
    }
  }

  function connect() {
    if (dead || ws || http) return;
    let sock;
    try {
      sock = new WebSocket(endpoint.replace(/^http/, 'ws') + '/ingest/ws');
    } catch {
      http = true;
      return schedule();
    }
    ws = sock;
    gen++;
    ready = false;
    let gotReady = false;
    sock.binaryType = 'arraybuffer';
    sock.onopen = () => {
      const first = buffer.pending()[0];
      hello(first ? first.stream : buffer.stream());
      setTimeout(() => gotReady || sock.close(), READY_TIMEOUT_MS);
    };
    sock.onmessage = (m) => {
      readChain = readChain
        .then(() => (typeof m.data === 'string' ? m.data : gunzip(m.data)))
        .then((text) => {
          const msg = JSON.parse(text);
          if (msg && msg.type === 'ready') gotReady = true;
          onMessage(sock, msg);
        })
        .catch(() => {});
    };
    sock.onerror = () => {}; // a close follows; the browser reports the failure itself
    sock.onclose = (e) => {
      if (ws !== sock) return;
      ws = null;
      ready = false;
      if (FATAL_CLOSE_CODES.includes(e.code)) return fatal();
      // Too large (inflated past the collector's limit): those batches can never go as they are.
      if (e.code === CLOSE_TOO_LARGE) buffer.pending().forEach((b) => b.bytes > MAX_FRAME_BYTES && buffer.collapse(b));
      // Rate limited: wait long, whatever the ready that comes next says.
      if (e.code === CLOSE_RATE_LIMITED) attempt = Math.max(attempt, 6);
      if (!gotReady && ++wsFailures >= WS_TRIES_BEFORE_HTTP) {
        http = true;
        buffer.pending().forEach((b) => (b.sock = -1));
      }
      schedule();
    };
  }

  function post() {
    if (dead || posting || retryTimer) return;
    const group = groups(buffer.pending().filter(unsent), postLimit)[0];
    if (!group) return;
    posting = true;
    group.forEach((b) => (b.sock = POSTING));
    const done = (ok) => {
      posting = false;
      group.forEach((b) => b.sock === POSTING && (b.sock = -1));
      if (ok) pump();
      else schedule();
    };
    encode(envelope(group))
      .then((data) => size(data) > MAX_HTTP_BATCH_BYTES
        ? { status: 413 }
        : nativeFetch.call(window, httpUrl, { method: 'POST', body: new Blob([data], { type: 'text/plain' }), credentials: 'omit' }))
      .then((res) => {
        if (FATAL_HTTP_STATUS.includes(res.status)) return fatal();
        if (res.status === 413) {
          // Too large: send the group in smaller parts; a batch too large on its
          // own goes as the marker that counts its events (replay.dropped).
          const one = group[0];
          const before = one.bytes;
          if (group.length > 1) postLimit = Math.max(group.bytes / 2, 1024);
          else buffer.collapse(one);
          return done(group.length > 1 || one.bytes < before); // a bare marker refused: back off
        }
        if (!res.ok) return done(false);
        return res.json().then(() => {
          attempt = 0;
          group.forEach((b) => buffer.ack(b.stream, b.seq, 0));
          done(true);
        });
      })
      .catch(() => done(false));
  }

  function pump() {
    if (dead) return;
    if (http) return post();
    if (!ws || !ready) return;
    for (const b of buffer.pending()) {
      if (!unsent(b)) continue;
      if (b.stream !== helloStream) return hello(b.stream); // the ready that follows pumps again
      b.sock = gen;
      send(ws, () => '{"type":"batch",' + batchJSON(b).slice(1), b);
    }
  }

  function tick() {
    if (!dead && (http || (ws && ready))) {
      buffer.flush();
      pump();
    }
  }

  // Page going away: everything unacked leaves by beacon, synchronously, as JSON.
  // Browsers allow about 64 KB of such requests in flight, so batches never
  // sent go first, newest first (the failed call and the errors just before the
  // page went away); the ones on an open socket but not yet acked come after.
  // A batch too large for any beacon (a big full snapshot) can only go by
  // socket: it is skipped, never in the way of the others.
  function beaconAll() {
    buffer.flush();
    const onSocket = (b) => !!ws && b.sock === gen;
    const todo = buffer.pending().filter((b) => !b.beacon).reverse();
    todo.sort((a, b) => onSocket(a) - onSocket(b)); // stable: newest first within each
    for (const group of groups(todo, MAX_BEACON_BYTES)) {
      if (group.bytes > MAX_BEACON_BYTES) continue;
      const body = envelope(group);
      const mark = (v) => group.forEach((b) => (b.beacon = v)); // still unacked: resent if the page stays
      mark(true);
      let ok = false;
      try { ok = navigator.sendBeacon(httpUrl, new Blob([body], { type: 'text/plain' })); } catch { /* try fetch */ }
      if (ok) continue;
      try {
        nativeFetch.call(window, httpUrl, { method: 'POST', body, keepalive: true, mode: 'no-cors', credentials: 'omit' }).catch(() => mark(false));
      } catch {
        mark(false);
      }
      return; // a beacon that fits was refused: over the browser's quota, the rest would be too
    }
  }

  const onHidden = () => { try { if (!dead && document.visibilityState === 'hidden') beaconAll(); } catch { /* never break the page */ } };
  const onPageHide = () => {
    try {
      if (dead) return;
      beaconAll();
      // A closed socket keeps the page eligible for the back/forward cache.
      if (ws) close(ws);
    } catch { /* never break the page */ }
  };
  const onPageShow = (e) => { try { if (e.persisted) connect(); } catch { /* ignore */ } };
  document.addEventListener('visibilitychange', onHidden);
  addEventListener('pagehide', onPageHide);
  addEventListener('pageshow', onPageShow);
  const interval = setInterval(tick, FLUSH_INTERVAL_MS);
  http ? schedule() : connect();

  return {
    /** New events were added; `urgent` sends them now (failed call, error). */
    kick(urgent) {
      if (urgent) {
        if (!urgentTimer) urgentTimer = setTimeout(() => { urgentTimer = 0; tick(); }, 0);
      } else {
        const p = buffer.pending();
        if (p.length && unsent(p[p.length - 1])) pump();
      }
    },
    stop() {
      clearInterval(interval);
      clearTimeout(retryTimer);
      clearTimeout(urgentTimer);
      document.removeEventListener('visibilitychange', onHidden);
      removeEventListener('pagehide', onPageHide);
      removeEventListener('pageshow', onPageShow);
      if (!dead) beaconAll();
      dead = true;
      if (ws) close(ws);
    },
  };
}
