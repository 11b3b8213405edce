// Owns the connection to the collector, as one state machine:
//
//   websocket mode  connecting → greeting (hello sent) → ready (batches go as they come)
//                   ready → greeting: batches of a new session need a hello of their own
//                   closed → backoff → connecting; after 3 connects in a row that never
//                   said ready, http mode instead
//                   closed for idleness (4408) → asleep → connecting at the first tick
//                   or kick with batches to send, without backoff
//   http mode       idle → posting → idle (and post the next group), or → backoff → idle
//   either          → stopped: a refusal that would only repeat (onFatal hears what the
//                   collector said, where the page can read it), or stop()
//   page hidden     beacons (beacon.js); on pagehide the socket is closed (→ idle) and
//                   the page coming back from the back/forward cache connects again
//
// Retries wait with capped exponential backoff and full jitter. Never logs, never throws.
import { CLOSE_TOO_LARGE, CLOSE_INVALID, CLOSE_FORBIDDEN, CLOSE_UNSUPPORTED_VERSION, CLOSE_RATE_LIMITED, CLOSE_TIMEOUT, CLOSE_TRY_AGAIN, CLOSE_STORAGE_FULL } from './wire.js';
import { browserEnv } from './env.js';
import { createEnvelope } from './envelope.js';
import { openSocket, MAX_FRAME_BYTES } from './socket.js';
import { createPoster, POST, SENT, FAILED, REFUSED } from './poster.js';
import { sendBeacons } from './beacon.js';

export const FLUSH_INTERVAL_MS = 2000;
const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 30000;
const RATE_LIMITED_ATTEMPT = 6; // after a 4429 or 1013, wait as after this many failures in a row
const WS_TRIES_BEFORE_HTTP = 3;
const READY_TIMEOUT_MS = 10000; // an open socket that never says ready counts as a failure
// Refusals that would only repeat (protocol.md): stop sending altogether.
const FATAL_CLOSE_CODES = [CLOSE_INVALID, CLOSE_FORBIDDEN, CLOSE_UNSUPPORTED_VERSION, CLOSE_STORAGE_FULL];

// Modes, and the states of the machine above.
const WS = 'websocket';
const HTTP = 'http';
const IDLE = 'idle';
const CONNECTING = 'connecting';
const GREETING = 'greeting';
const READY = 'ready';
const POSTING = 'posting';
const BACKOFF = 'backoff';
const ASLEEP = 'asleep';
const STOPPED = 'stopped';

/**
 * Connects to `endpoint` and sends `buffer`'s batches (`meta`: see envelope.js);
 * returns {kick, stop}. `onFatal({code, message})` after a refusal that would only
 * repeat ({} when the page could not read why); `onCapture(capture)` with what each
 * ready (or HTTP answer) asks the snippet to capture (capture.js).
 */
export function startTransport({ endpoint, key, meta, buffer, onFatal, onCapture = () => {}, env = browserEnv() }) {
  const httpUrl = endpoint + '/ingest/batch';
  const wire = createEnvelope({ key, meta, buffer, env });
  const poster = createPoster({ env, url: httpUrl, buffer, wire, onCapture });
  let mode = env.WebSocket ? WS : HTTP;
  let state = IDLE;
  let conn = null; // the open websocket: {socket, gotReady, helloStream, ackStream}
  let wsFailures = 0; // connects in a row that never said ready
  let attempt = 0; // failures since the last success: the backoff's exponent
  let retryTimer = 0;
  let urgentTimer = 0;

  const to = (next) => { state = next; };

  function retry() {
    to(BACKOFF);
    const delay = env.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.min(attempt++, 16));
    retryTimer = env.setTimeout(() => {
      retryTimer = 0;
      if (mode === WS) return connect();
      to(IDLE);
      post();
    }, delay);
  }

  function connect() {
    const c = { gotReady: false };
    try {
      c.socket = openSocket(env, endpoint.replace(/^http/, 'ws') + '/ingest/ws', {
        open: () => opened(c),
        message: (msg) => received(c, msg),
        close: (code) => closed(c, code),
      });
    } catch {
      mode = HTTP;
      return retry();
    }
    conn = c;
    to(CONNECTING);
  }

  function opened(c) {
    const first = buffer.pending()[0];
    hello(first ? first.stream : buffer.stream());
    env.setTimeout(() => conn === c && !c.gotReady && c.socket.abort(), READY_TIMEOUT_MS);
  }

  function hello(stream) {
    const text = wire.hello(stream);
    conn.helloStream = stream;
    to(GREETING);
    conn.socket.send(() => text);
  }

  function received(c, msg) {
    if (msg.type === 'ready') {
      c.gotReady = true;
      c.ackStream = c.helloStream; // acks belong to the stream of the last ready
      attempt = 0;
      wsFailures = 0;
      to(READY);
      onCapture(msg.capture);
      buffer.ack(c.ackStream, -1, msg.acked | 0);
      pump();
    } else if (msg.type === 'ack') {
      buffer.ack(c.ackStream, msg.seq, msg.acked | 0);
    } else if (msg.type === 'error') {
      c.error = msg; // the close that follows says what to do
    }
  }

  function closed(c, code) {
    conn = null;
    if (FATAL_CLOSE_CODES.includes(code)) return fatal(c.error);
    // Too large (inflated past the collector's limit): those batches can never go as they are.
    if (code === CLOSE_TOO_LARGE) buffer.pending().forEach((b) => b.bytes > MAX_FRAME_BYTES && buffer.collapse(b));
    // Rate limited, or over the server's socket caps: wait long, whatever the ready that comes next says.
    if (code === CLOSE_RATE_LIMITED || code === CLOSE_TRY_AGAIN) attempt = Math.max(attempt, RATE_LIMITED_ATTEMPT);
    if (!c.gotReady && ++wsFailures >= WS_TRIES_BEFORE_HTTP) mode = HTTP;
    // Closed for idleness: no backoff; connect again when there is something to send
    // (a hello that timed out still counted above, as a connect that never said ready).
    if (code === CLOSE_TIMEOUT) return to(mode === WS ? ASLEEP : IDLE);
    retry();
  }

  function post() {
    if (state !== IDLE) return;
    const sending = poster.post();
    if (!sending) return;
    to(POSTING);
    sending.then((outcome) => {
      if (state === STOPPED) return;
      if (outcome === REFUSED) return fatal();
      if (outcome === FAILED) return retry();
      if (outcome === SENT) attempt = 0;
      to(IDLE);
      pump();
    });
  }

  // Sends what the current channel has not carried yet.
  function pump() {
    if (mode === HTTP) return post();
    if (state === ASLEEP && buffer.pending().length) return connect();
    if (state !== READY) return;
    for (const b of buffer.unsent(conn.socket)) {
      if (b.stream !== conn.helloStream) return hello(b.stream); // the ready that follows pumps again
      buffer.markSent([b], conn.socket);
      conn.socket.send(() => wire.frame(b), () => buffer.collapse(b));
    }
  }

  function tick() {
    if (mode === HTTP ? state !== STOPPED : state === READY || state === ASLEEP) {
      buffer.flush();
      pump();
    }
  }

  const beacons = () => sendBeacons({ env, url: httpUrl, buffer, wire, socket: conn && conn.socket });

  function closeSocket() {
    if (conn) conn.socket.close();
    conn = null;
  }

  // Every way of ending: `leaving` sends what is left by beacon first.
  function shutdown(leaving) {
    if (state === STOPPED) return false;
    if (leaving) beacons();
    to(STOPPED);
    env.clearInterval(interval);
    env.clearTimeout(retryTimer);
    env.clearTimeout(urgentTimer);
    env.document.removeEventListener('visibilitychange', onHidden);
    env.window.removeEventListener('pagehide', onPageHide);
    env.window.removeEventListener('pageshow', onPageShow);
    closeSocket();
    return true;
  }

  function fatal(why) {
    if (shutdown(false)) {
      try { onFatal(why || {}); } catch { /* nothing more to do */ }
    }
  }

  const onHidden = () => { try { if (state !== STOPPED && env.document.visibilityState === 'hidden') beacons(); } catch { /* never break the page */ } };
  const onPageHide = () => {
    try {
      if (state === STOPPED) return;
      beacons();
      // A closed socket keeps the page eligible for the back/forward cache.
      if (conn) {
        closeSocket();
        to(IDLE);
      }
    } catch { /* never break the page */ }
  };
  const onPageShow = (e) => {
    try {
      if (e.persisted && mode === WS && (state === IDLE || state === BACKOFF)) {
        env.clearTimeout(retryTimer);
        connect();
      }
    } catch { /* ignore */ }
  };
  env.document.addEventListener('visibilitychange', onHidden);
  env.window.addEventListener('pagehide', onPageHide);
  env.window.addEventListener('pageshow', onPageShow);
  const interval = env.setInterval(tick, FLUSH_INTERVAL_MS);
  mode === WS ? connect() : retry();

  return {
    /** New events were added; `urgent` sends them now (failed call, error). */
    kick(urgent) {
      if (urgent) {
        if (!urgentTimer) urgentTimer = env.setTimeout(() => { urgentTimer = 0; tick(); }, 0);
      } else {
        const p = buffer.pending();
        if (p.length && !buffer.sentOn(p[p.length - 1], mode === HTTP ? POST : conn ? conn.socket : 0)) pump();
      }
    },
    /** Stop sending, after a last round of beacons. */
    stop: () => { shutdown(true); },
    /** Stop sending, quietly: what is buffered stays there (held for record on failure). */
    halt: () => { shutdown(false); },
  };
}
