// A fake page for the code that wraps the page's own globals (loader.js,
// calls.js, console.js, network.js, timing.js): window, location, document,
// sessionStorage, console, fetch, XMLHttpRequest and resource timing, all driven
// by hand. (node --test runs this file too, as a test file without tests.)

export const ORIGIN = 'https://shop.test';

/** A promise with its resolve and reject. */
export function deferred() {
  let resolve, reject;
  const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

/** Lets pending promise callbacks run. */
export const tick = () => new Promise((r) => setImmediate(r));

/** A fake XMLHttpRequest: the test answers each one with `respond` or `fail`. */
class FakeXHR extends EventTarget {
  constructor() {
    super();
    this.status = 0;
    this.statusText = '';
    this.responseType = '';
    this.responseText = '';
    this.headers = {};
    this.sentHeaders = [];
  }
  open(method, url) { this.method = method; this.url = url; this.sentHeaders = []; }
  setRequestHeader(name, value) { this.sentHeaders.push([name, value]); }
  send() { FakeXHR.sent.push(this); }
  getResponseHeader(name) { return this.headers[name.toLowerCase()] ?? null; }
  getAllResponseHeaders() { return Object.entries(this.headers).map(([k, v]) => `${k}: ${v}\r\n`).join(''); }
  respond(status, body = '', headers = {}) {
    Object.assign(this, { status, statusText: status === 502 ? 'Bad Gateway' : 'OK', responseText: body, headers });
    this.dispatchEvent(new Event('load'));
    this.dispatchEvent(new Event('loadend'));
  }
  fail() {
    this.dispatchEvent(new Event('error'));
    this.dispatchEvent(new Event('loadend'));
  }
}

function storage() {
  const map = new Map();
  return {
    getItem: (k) => (map.has(k) ? map.get(k) : null),
    setItem: (k, v) => { map.set(k, String(v)); },
    removeItem: (k) => { map.delete(k); },
  };
}

/**
 * Installs a fresh fake page as the global object's browser side and returns
 * its handles: `fetched` (each native fetch: {url, headers, answer}), `xhrs`
 * (each sent XHR), `printed` (what reached the real console methods) and
 * `entries` (the resource timing buffer; `observe(entry)` adds one later).
 */
export function fakePage({ dataset = {} } = {}) {
  const page = { fetched: [], xhrs: [], printed: [], entries: [], observers: [] };
  globalThis.window = globalThis;
  delete globalThis.__replay;
  delete globalThis.Replay;
  // The window's own events (error, unhandledrejection), on a fresh target per page.
  const events = new EventTarget();
  for (const m of ['addEventListener', 'removeEventListener', 'dispatchEvent']) globalThis[m] = events[m].bind(events);
  globalThis.location = new URL(ORIGIN + '/account?tab=1');
  globalThis.document = { currentScript: { dataset } };
  Object.defineProperty(globalThis, 'sessionStorage', { value: storage(), configurable: true, writable: true });
  page.storage = globalThis.sessionStorage;

  globalThis.fetch = function (input, init) {
    const request = new Request(input instanceof Request ? input : new URL(String(input), location.href), init);
    const call = { url: request.url, method: request.method, headers: Object.fromEntries(request.headers), answer: deferred() };
    page.fetched.push(call);
    return call.answer.promise;
  };
  page.nativeFetch = globalThis.fetch;

  FakeXHR.sent = page.xhrs;
  globalThis.XMLHttpRequest = class extends FakeXHR {};
  page.nativeXHR = { ...Object.fromEntries(['open', 'send', 'setRequestHeader'].map((m) => [m, XMLHttpRequest.prototype[m]])) };

  page.console = {};
  for (const level of ['log', 'info', 'warn', 'error', 'debug']) {
    page.console[level] = (...args) => { page.printed.push([level, ...args]); };
  }
  globalThis.console = { ...page.console };

  // Resource timing, on the fake page's clock: performance.now() is real time since the page "loaded".
  const origin = Date.now() - performance.now();
  const perf = {
    timeOrigin: origin,
    now: () => Date.now() - origin,
    getEntriesByType: (type) => (type === 'resource' ? page.entries.slice() : []),
    getEntriesByName: (name, type) => page.entries.filter((e) => e.name === name && (!type || type === 'resource')),
  };
  Object.defineProperty(globalThis, 'performance', { value: perf, configurable: true, writable: true });
  globalThis.PerformanceObserver = class {
    constructor(cb) { this.cb = cb; this.live = false; }
    observe({ type, buffered }) {
      if (type !== 'resource') return;
      this.live = true;
      page.observers.push(this);
      // The buffered entries come in a later task, as in browsers.
      if (buffered) setImmediate(() => this.live && this.cb({ getEntries: () => page.entries.slice() }));
    }
    disconnect() { this.live = false; }
  };
  /** A resource timing entry of a call to `path`, started at `startTime` (performance.now()). */
  page.entry = (path, startTime, more = {}) => ({
    name: new URL(path, ORIGIN).href, initiatorType: 'fetch', startTime, duration: 30, responseStatus: 502,
    domainLookupStart: startTime + 1, domainLookupEnd: startTime + 3, connectStart: startTime + 3, secureConnectionStart: startTime + 5,
    connectEnd: startTime + 9, requestStart: startTime + 10, responseStart: startTime + 25, responseEnd: startTime + 30, ...more,
  });
  /** The browser finishes an entry: into the buffer, and to every observer. */
  page.observe = (entry) => {
    page.entries.push(entry);
    for (const o of page.observers) if (o.live) o.cb({ getEntries: () => [entry] });
  };
  return page;
}

/** A Response as fetch gives it. */
export const response = (status, body = '', headers = {}) => new Response(body, { status, statusText: status === 502 ? 'Bad Gateway' : 'OK', headers });

/** An `emit` that keeps what it is given: [{tag, payload, urgent, timestamp}]. */
export function recorder() {
  const events = [];
  const emit = (tag, payload, urgent, timestamp) => { events.push({ tag, payload, urgent, timestamp }); };
  return { events, emit, of: (tag) => events.filter((e) => e.tag === tag).map((e) => e.payload) };
}

let loads = 0;
/** Runs the loader on the current fake page (a fresh module instance each time); returns its hand-over object. */
export async function runLoader() {
  await import(`../src/loader.js?load=${++loads}`);
  return globalThis.__replay;
}
