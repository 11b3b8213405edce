// The browser globals the transport uses, in one object, so that node tests can
// hand it fakes. Called as methods of this object, so each native function is
// wrapped: most refuse to run with `this` other than window or navigator.

// Each is reached as a property of the global object (or navigator), which markup
// cannot shadow: a named element (<img name="fetch">) only answers for names the
// window and its prototypes lack. `document`'s own members can be shadowed that
// way (document.currentScript: see index.js), so none of them decides where data goes.

/** The real globals; call it before network.js wraps fetch. */
export function browserEnv() {
  const nativeFetch = window.fetch;
  return {
    WebSocket: typeof WebSocket === 'function' ? WebSocket : null,
    fetch: (url, init) => nativeFetch.call(window, url, init),
    sendBeacon: (url, data) => navigator.sendBeacon(url, data),
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (id) => clearTimeout(id),
    setInterval: (fn, ms) => setInterval(fn, ms),
    clearInterval: (id) => clearInterval(id),
    random: Math.random,
    document,
    window,
    location,
    userAgent: navigator.userAgent,
  };
}
