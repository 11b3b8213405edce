// Wraps fetch and XMLHttpRequest: one `replay.network` event per finished call,
// with headers and body only for failed ones. The page gets exactly what it
// would have got without us: same promise, same errors, same body.
import { filterHeaders, capBody, MAX_BODY_CHARS } from './privacy.js';
import { TAG_NETWORK } from './wire.js';

export const CORRELATION_HEADER = 'X-Replay-Session';
const MAX_READ_BYTES = 1024 * 1024;
const READ_TIMEOUT_MS = 5000;
const BINARY_TYPE = /^(image|audio|video|font)\/|octet|zip|pdf|proto|wasm/;
// Members of RequestInit: fetch(request, init) with any of them set rebuilds the request.
const INIT_MEMBERS = 'method headers body referrer referrerPolicy mode credentials cache redirect integrity keepalive signal duplex priority window'.split(' ');

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

// "Name: value" lines of getAllResponseHeaders() as [name, value] pairs.
const rawHeaderPairs = (raw) => raw.split(/\r?\n/).filter((l) => l.includes(':')).map((l) => l.split(/:\s*(.*)/));

/**
 * Record fetch/XHR calls; `sessionId()` gives the correlation header's value.
 * Calls to `endpoint`/ingest are neither recorded nor tagged. Returns stop.
 * `paths` (path prefixes, an array or "a,b" text) limits the header to those
 * same-origin paths: a same-origin URL that redirects to another origin would
 * carry it there and need a CORS preflight.
 */
export function startNetwork({ emit, endpoint, sessionId, correlation, paths }) {
  let active = true;
  const ingest = endpoint + '/ingest';
  const absolute = (u) => new URL(u, location.href).href;
  const prefixes = (typeof paths === 'string' ? paths.split(',') : paths || [])
    .map((p) => String(p).trim()).filter(Boolean).map((p) => (p[0] === '/' ? p : '/' + p));
  if (!prefixes.length) prefixes.push('/');
  // http(s) on this page's origin only (a blob: URL of this origin is not a request to it).
  const tagged = (u) => correlation !== false && prefixes.some((p) => u.startsWith(location.origin + p));

  const base = (info, status, statusText, error) => ({
    method: info.method,
    url: info.url,
    status,
    statusText: statusText || '',
    initiator: info.initiator,
    startTime: info.startTime,
    duration: Math.round((performance.now() - info.t0) * 10) / 10,
    failed: !!error || status >= 400,
    error,
  });
  const send = (payload) => emit(TAG_NETWORK, payload, payload.failed);
  const noResponse = (info, error) =>
    send({ ...base(info, 0, '', error), requestHeaders: info.headers, responseHeaders: {}, responseBody: null, responseBodyTruncated: false, responseSize: null });
  const begin = (method, url, initiator, headers) => ({
    method: String(method || 'GET').toUpperCase(),
    url,
    initiator,
    headers: filterHeaders(headers),
    startTime: Date.now(),
    t0: performance.now(),
  });

  const restores = [];

  // fetch
  const nativeFetch = window.fetch;
  if (typeof nativeFetch === 'function') {
    const onResponse = (info, res) => {
      const payload = base(info, res.status, res.statusText, null);
      if (!payload.failed) return send(payload);
      payload.requestHeaders = info.headers;
      payload.responseHeaders = filterHeaders(res.headers);
      const type = res.headers.get('content-type') || '';
      const length = res.headers.get('content-length');
      const finish = (text, bytes) => send({ ...payload, ...capBody(text), responseSize: bytes });
      if (BINARY_TYPE.test(type) || !res.body) return finish(res.body ? '[' + type + ' body]' : '', length ? +length : 0);
      // The clone is read on the side; the page's own body is untouched.
      readText(res.clone().body).then((r) => finish(r.text, r.bytes), () => finish('[unreadable body]', length ? +length : null));
    };
    const onFailure = (info, err) => {
      const name = err && err.name;
      noResponse(info, name === 'AbortError' ? 'abort' : name === 'TimeoutError' ? 'timeout' : 'network');
    };
    const wrapper = function (input, init) {
      let args = arguments;
      let info = null;
      if (active) {
        try {
          const req = typeof Request === 'function' && input instanceof Request ? input : null;
          const url = absolute(req ? req.url : String(input));
          if (!url.startsWith(ingest)) {
            const headers = new Headers((init && init.headers) || (req ? req.headers : undefined));
            info = begin((init && init.method) || (req && req.method), url, 'fetch', headers);
            const mode = (init && init.mode) || (req && req.mode);
            if (mode !== 'no-cors' && mode !== 'navigate' && tagged(url) && !headers.has(CORRELATION_HEADER)) {
              // A new init with new Headers: the caller's objects stay as they were.
              // A non-empty init resets a Request's referrer and its policy (Fetch
              // standard, Request constructor): where the caller's init was empty,
              // carry them over, so the request goes as it would have.
              headers.set(CORRELATION_HEADER, sessionId());
              const keep = req && !INIT_MEMBERS.some((k) => init && init[k] !== undefined);
              args = [input, { ...(keep && { referrer: req.referrer, referrerPolicy: req.referrerPolicy }), ...init, headers }];
            }
          }
        } catch {
          args = arguments;
          info = null;
        }
      }
      const promise = nativeFetch.apply(this, args);
      if (info) {
        try {
          promise.then(
            (res) => { try { onResponse(info, res); } catch { /* ignore */ } },
            (err) => { try { onFailure(info, err); } catch { /* ignore */ } },
          );
        } catch { /* not a promise: nothing to record */ }
      }
      return promise;
    };
    window.fetch = wrapper;
    restores.push(() => { if (window.fetch === wrapper) window.fetch = nativeFetch; });
  }

  // XMLHttpRequest
  const proto = window.XMLHttpRequest && XMLHttpRequest.prototype;
  if (proto) {
    const { open, send: nativeSend, setRequestHeader } = proto;
    const calls = new WeakMap();

    const onEnd = (xhr, info) => {
      if (calls.get(xhr) !== info) return; // reopened since
      const status = xhr.status;
      const error = status ? null : info.error || 'network';
      const payload = base(info, status, xhr.statusText, error);
      if (!payload.failed) return send(payload);
      if (!status) return noResponse(info, error);
      const type = xhr.responseType;
      const isText = type === '' || type === 'text';
      const text = isText ? xhr.responseText : '[' + type + ' body]';
      const length = xhr.getResponseHeader('content-length');
      send({
        ...payload,
        requestHeaders: info.headers,
        responseHeaders: filterHeaders(rawHeaderPairs(xhr.getAllResponseHeaders())),
        ...capBody(text),
        responseSize: length ? +length : isText ? text.length : null,
      });
    };

    const patched = {
      open(method, url) {
        if (active) {
          try {
            const abs = absolute(String(url));
            calls.set(this, abs.startsWith(ingest) ? null : { method, url: abs, pairs: [] });
          } catch { calls.delete(this); }
        }
        return open.apply(this, arguments);
      },
      setRequestHeader(name, value) {
        const result = setRequestHeader.apply(this, arguments);
        try { const c = calls.get(this); if (c) c.pairs.push([String(name), String(value)]); } catch { /* ignore */ }
        return result;
      },
      send() {
        try {
          const c = active && calls.get(this);
          if (c) {
            const xhr = this;
            const info = begin(c.method, c.url, 'xhr', c.pairs);
            calls.set(xhr, info);
            const named = c.pairs.some((p) => p[0].toLowerCase() === 'x-replay-session');
            if (!named && tagged(c.url)) setRequestHeader.call(xhr, CORRELATION_HEADER, sessionId());
            const events = ['abort', 'error', 'timeout', 'loadend'];
            const listener = (e) => {
              try {
                if (e.type !== 'loadend') return void (info.error = e.type === 'error' ? 'network' : e.type);
                events.forEach((t) => xhr.removeEventListener(t, listener));
                onEnd(xhr, info);
              } catch { /* ignore */ }
            };
            events.forEach((t) => xhr.addEventListener(t, listener));
          }
        } catch { /* the page's send goes ahead regardless */ }
        return nativeSend.apply(this, arguments);
      },
    };
    for (const name of ['open', 'setRequestHeader', 'send']) {
      const original = proto[name];
      proto[name] = patched[name];
      restores.push(() => { if (proto[name] === patched[name]) proto[name] = original; });
    }
  }

  return () => {
    active = false;
    restores.forEach((r) => r());
  };
}
