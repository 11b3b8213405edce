// Wraps fetch and XMLHttpRequest, for the loader (loader.js) and the snippet
// (network.js) alike: each call becomes a plain record, handed to `begin` when
// it starts and to `end` when its answer (or its failure) is in. Same-origin
// calls get the X-Replay-Session header. The page gets exactly what it would
// have got without us: same promise, same errors, same body.
//
// A record (the loader queues them for a later snippet: a change of fields
// needs a new LOADER_VERSION in early.js):
//   k initiator ('fetch' or 'xhr'), m method (upper case), u absolute URL,
//   h request headers as [name, value] pairs, unfiltered (network.js filters),
//   s start (epoch ms), p start and e end (performance.now());
//   at the end: st status (0: no response), sx status text, x error ('network',
//   'abort', 'timeout'; network.js makes it 'unload' for a call the page's
//   leaving cut off) when there was no response; for a failed call with a
//   response also rh response headers (pairs or a Headers) and either r, a clone
//   of the Response to read the body from (fetch), or b, the body text, and z,
//   its size (xhr).

export const CORRELATION_HEADER = 'X-Replay-Session';
// Members of RequestInit: fetch(request, init) with any of them set rebuilds the request.
const INIT_MEMBERS = 'method headers body referrer referrerPolicy mode credentials cache redirect integrity keepalive signal duplex priority window'.split(' ');

/**
 * A test for URLs that get the correlation header: none when `on` is false, else
 * http(s) on this page's origin under one of `paths` (prefixes, an array or "a,b"
 * text; all paths when none). A same-origin URL that redirects to another origin
 * would carry the header there and need a CORS preflight.
 */
export function correlated(on, paths) {
  const prefixes = (typeof paths === 'string' ? paths.split(',') : paths || [])
    .map((p) => String(p).trim()).filter(Boolean).map((p) => (p[0] === '/' ? p : '/' + p));
  if (!prefixes.length) prefixes.push('/');
  // (a blob: URL of this origin is not a request to it)
  return (u) => on !== false && prefixes.some((p) => u.startsWith(location.origin + p));
}

// "Name: value" lines of getAllResponseHeaders() as [name, value] pairs.
const rawHeaderPairs = (raw) => raw.split(/\r?\n/).filter((l) => l.includes(':')).map((l) => l.split(/:\s*(.*)/));

const record = (k, m, u, h) => ({
  k,
  m: String(m || 'GET').toUpperCase(),
  u: new URL(u, location.href).href,
  h,
  s: Date.now(),
  p: performance.now(),
});

/**
 * Wrap fetch and XHR. `tagged(url)`: add the correlation header, valued `sessionId()`.
 * `begin(rec, init, request)` (fetch) or `begin(rec, sendArguments)` (xhr): truthy to follow the call;
 * `end(rec)` then follows once it ended. Returns stop.
 */
export function wrapCalls({ tagged, sessionId, begin, end }) {
  let active = true;
  const restores = [];
  const done = (c) => {
    c.e = performance.now();
    try { end(c); } catch { /* never break the page */ }
  };

  // fetch
  const nativeFetch = window.fetch;
  if (typeof nativeFetch === 'function') {
    const wrapper = function (input, init) {
      let args = arguments;
      let c = null;
      if (active) {
        try {
          const req = typeof Request === 'function' && input instanceof Request ? input : null;
          const headers = new Headers((init && init.headers) || (req ? req.headers : undefined));
          c = record('fetch', (init && init.method) || (req && req.method), req ? req.url : String(input), [...headers]);
          const mode = (init && init.mode) || (req && req.mode);
          if (mode !== 'no-cors' && mode !== 'navigate' && tagged(c.u) && !headers.has(CORRELATION_HEADER)) {
            // A new init with new Headers: the caller's objects stay as they were.
            // A non-empty init resets a Request's referrer and its policy (Fetch
            // standard, Request constructor): where the caller's init was empty,
            // carry them over, so the request goes as it would have.
            headers.set(CORRELATION_HEADER, sessionId());
            const keep = req && !INIT_MEMBERS.some((k) => init && init[k] !== undefined);
            args = [input, { ...(keep && { referrer: req.referrer, referrerPolicy: req.referrerPolicy }), ...init, headers }];
          }
          if (!begin(c, init, req)) c = null;
        } catch {
          args = arguments;
          c = null;
        }
      }
      const promise = nativeFetch.apply(this, args);
      if (c) {
        try {
          promise.then(
            (res) => {
              c.st = res.status;
              c.sx = res.statusText;
              if (res.status >= 400) {
                c.rh = res.headers;
                // The clone is read on the side; the page's own body is untouched.
                try { c.r = res.clone(); } catch { /* body already taken */ }
              }
              done(c);
            },
            (err) => {
              const name = err && err.name;
              c.st = 0;
              c.x = name === 'AbortError' ? 'abort' : name === 'TimeoutError' ? 'timeout' : 'network';
              done(c);
            },
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
    const { open, send, setRequestHeader } = proto;
    const calls = new WeakMap();

    const onEnd = (xhr, c) => {
      if (calls.get(xhr) !== c) return; // reopened since
      const status = (c.st = xhr.status);
      c.sx = xhr.statusText;
      if (!status) c.x = c.x || 'network';
      else if (status >= 400) {
        const type = xhr.responseType;
        const isText = type === '' || type === 'text';
        const length = xhr.getResponseHeader('content-length');
        c.rh = rawHeaderPairs(xhr.getAllResponseHeaders());
        c.b = isText ? xhr.responseText : '[' + type + ' body]';
        c.z = length ? +length : isText ? c.b.length : null;
      }
      done(c);
    };

    const patched = {
      open(method, url) {
        if (active) {
          try { calls.set(this, record('xhr', method, String(url), [])); } catch { calls.delete(this); }
        }
        return open.apply(this, arguments);
      },
      setRequestHeader(name, value) {
        const result = setRequestHeader.apply(this, arguments);
        try { const c = calls.get(this); if (c) c.h.push([String(name), String(value)]); } catch { /* ignore */ }
        return result;
      },
      send() {
        try {
          const opened = active && calls.get(this);
          if (opened) {
            const xhr = this;
            const c = record('xhr', opened.m, opened.u, opened.h);
            calls.set(xhr, c);
            const named = c.h.some((p) => p[0].toLowerCase() === 'x-replay-session');
            if (!named && tagged(c.u)) setRequestHeader.call(xhr, CORRELATION_HEADER, sessionId());
            if (begin(c, arguments)) {
              const events = ['abort', 'error', 'timeout', 'loadend'];
              const listener = (e) => {
                try {
                  if (e.type !== 'loadend') return void (c.x = e.type === 'error' ? 'network' : e.type);
                  events.forEach((t) => xhr.removeEventListener(t, listener));
                  onEnd(xhr, c);
                } catch { /* ignore */ }
              };
              events.forEach((t) => xhr.addEventListener(t, listener));
            }
          }
        } catch { /* the page's send goes ahead regardless */ }
        return send.apply(this, arguments);
      },
    };
    for (const name of Object.keys(patched)) {
      const original = proto[name];
      proto[name] = patched[name];
      restores.push(() => { if (proto[name] === patched[name]) proto[name] = original; });
    }
  }

  // Someone may have wrapped on top of us since: then we stay in place, but inert.
  return () => {
    active = false;
    restores.forEach((r) => r());
  };
}
