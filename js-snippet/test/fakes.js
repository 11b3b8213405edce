// Fakes for the browser APIs the transport uses, driven by hand from the tests,
// and a log of everything that left "the page", in order. (node --test runs this
// file too, as a test file without tests.)
import { gunzipSync } from 'node:zlib';
import { createBuffer } from '../src/buffer.js';
import { startTransport } from '../src/transport.js';
import { TAG_DROPPED } from '../src/wire.js';

export const ENDPOINT = 'https://replay.test';
export const KEY = 'pk_test_0001';
export const STREAM = { session: 'session-one-0001', secret: 'secret-of-session-one', window: 'window-one-00001' };

/** Lets pending promises (gzip runs on node's thread pool) run; real time, a few ms. */
export async function settle() {
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 10; j++) await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Waits (real time) until `check()` is truthy; for work that takes a while, such as gzip of a megabyte. */
export async function until(check, timeoutMs = 5000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value || Date.now() > end) return value;
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Timers that run only when the test advances the clock. */
export class FakeClock {
  now = 0;
  timers = new Map();
  nextId = 1;
  setTimeout = (fn, ms = 0) => this.#add(fn, ms, 0);
  setInterval = (fn, ms) => this.#add(fn, ms, ms);
  clearTimeout = (id) => { this.timers.delete(id); };
  clearInterval = (id) => { this.timers.delete(id); };
  #add(fn, ms, every) {
    const id = this.nextId++;
    this.timers.set(id, { at: this.now + Math.max(0, ms || 0), fn, every });
    return id;
  }
  /** Delays of the one-shot timers now pending, from now. */
  pending() {
    return [...this.timers.values()].filter((t) => !t.every).map((t) => t.at - this.now);
  }
  /** Moves time forward by `ms`, running each timer due on the way (and what it sets off). */
  async advance(ms) {
    const end = this.now + ms;
    for (;;) {
      await settle();
      let next = null;
      for (const [id, t] of this.timers) if (t.at <= end && (!next || t.at < next[1].at)) next = [id, t];
      if (!next) break;
      const [id, t] = next;
      this.now = t.at;
      if (t.every) t.at += t.every;
      else this.timers.delete(id);
      t.fn();
    }
    this.now = end;
    await settle();
  }
}

/** JSON of a string, an ArrayBuffer or a Blob, gunzipped when it is gzip. */
export async function decode(data) {
  if (typeof data === 'string') return JSON.parse(data);
  let bytes = Buffer.from(data instanceof Blob ? await data.arrayBuffer() : data);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
  return JSON.parse(bytes.toString('utf8'));
}

const byteSize = (data) => (typeof data === 'string' ? Buffer.byteLength(data) : data instanceof Blob ? data.size : data.byteLength);

/**
 * A fake browser: `env` for startTransport, `sockets` (every WebSocket made,
 * driven with open/reply/drop), `respond(body)` picks each POST's status
 * (or 'network' for a failed fetch),
 * `beaconOk` what sendBeacon answers, and `log` everything that left, in order.
 */
export function fakeBrowser({ webSocket = true, random = () => 0.5 } = {}) {
  const clock = new FakeClock();
  const log = [];
  const sockets = [];
  const b = {
    clock,
    log,
    sockets,
    beaconOk: true,
    respond: () => 200,
  };

  class FakeWebSocket {
    constructor(url) {
      this.url = url;
      this.readyState = 0;
      this.closedWith = null;
      sockets.push(this);
    }
    send(data) {
      if (this.readyState !== 1) throw new Error('InvalidStateError');
      log.push({ via: 'ws', socket: sockets.indexOf(this), data, at: clock.now });
    }
    close(code = 1005) {
      if (this.readyState >= 2) return;
      this.readyState = 2;
      this.closedWith = code;
      // As in browsers, the close event comes later.
      Promise.resolve().then(() => {
        this.readyState = 3;
        if (this.onclose) this.onclose({ code });
      });
    }
    // The server's side.
    open() {
      this.readyState = 1;
      this.onopen();
    }
    reply(msg) {
      this.onmessage({ data: JSON.stringify(msg) });
    }
    drop(code = 1006) {
      this.readyState = 3;
      this.onclose({ code });
    }
  }

  b.env = {
    WebSocket: webSocket ? FakeWebSocket : null,
    async fetch(url, init) {
      const entry = { via: init.keepalive ? 'fetch-beacon' : 'post', url, data: init.body, at: clock.now };
      log.push(entry);
      const msg = await decode(init.body);
      const status = b.respond(msg);
      if (status === 'network') throw new TypeError('Failed to fetch');
      return { status, ok: status >= 200 && status < 300, json: async () => ({ acked: 0, stored: msg.batches.length }) };
    },
    sendBeacon(url, data) {
      if (!b.beaconOk) return false;
      log.push({ via: 'beacon', url, data, at: clock.now });
      return true;
    },
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    setInterval: clock.setInterval,
    clearInterval: clock.clearInterval,
    random,
    document: Object.assign(new EventTarget(), { visibilityState: 'visible' }),
    window: new EventTarget(),
    location: { href: 'https://shop.test/cart?step=2' },
    userAgent: 'FakeBrowser/1.0',
  };

  /** Everything that left, decoded: [{via, socket, at, bytes, msg}]. */
  b.sent = async () => Promise.all(log.map(async (e) => ({ ...e, bytes: byteSize(e.data), msg: await decode(e.data) })));

  /** One line per message: "ws0 hello", "ws0 batch 3", "post 1,2", "beacon 3,2". */
  b.lines = async () => (await b.sent()).map(({ via, socket, msg }) => {
    if (via === 'ws') return `ws${socket} ${msg.type}${msg.type === 'batch' ? ' ' + msg.seq : ''}`;
    return `${via} ${msg.batches.map((x) => x.seq).join(',')}`;
  });

  /** Fires a page event: 'pagehide', 'pageshow' (bfcache) or 'hidden' (visibility). */
  b.page = (what) => {
    if (what === 'hidden') {
      b.env.document.visibilityState = 'hidden';
      b.env.document.dispatchEvent(new Event('visibilitychange'));
    } else {
      b.env.window.dispatchEvent(Object.assign(new Event(what), { persisted: what === 'pageshow' }));
    }
  };
  return b;
}

/** The `replay.dropped` event the snippet's buffer makes (as index.js does). */
export const marker = (events, bytes, timestamp) => ({ type: 5, timestamp, data: { tag: TAG_DROPPED, payload: { events, bytes } } });

/** A fake browser with a buffer and a started transport (`meta`: its release and environment); `batch(...)` adds one batch; `why` is what onFatal heard. */
export function started(options = {}) {
  const b = fakeBrowser(options);
  b.buffer = createBuffer(STREAM, marker);
  b.fatal = 0;
  const onFatal = (why) => { b.fatal++; b.why = why; };
  b.transport = startTransport({ endpoint: ENDPOINT, key: KEY, meta: options.meta, buffer: b.buffer, onFatal, env: b.env });
  let n = 0;
  /** Adds one batch of events (each `pad` characters of text) and tells the transport, as a tick would. */
  b.batch = (count = 1, pad = 10) => {
    for (let i = 0; i < count; i++) b.buffer.add({ type: 5, timestamp: b.clock.now, data: { tag: 'test', payload: { n: ++n, text: 'x'.repeat(pad) } } });
    b.buffer.flush();
    b.transport.kick();
  };
  /** Opens socket `i` and answers its hello with `ready`, `acked` already stored. */
  b.connect = async (i, acked = 0) => {
    b.sockets[i].open();
    await settle();
    b.sockets[i].reply({ type: 'ready', acked });
    await settle();
  };
  return b;
}
