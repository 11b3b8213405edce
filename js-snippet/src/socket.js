// One websocket connection to the collector. Frames out go through one promise
// chain, so async gzip never reorders them; frames in are decoded in order.
import { MAX_MESSAGE_BYTES } from './wire.js';
import { gunzip } from './compress.js';
import { encode, sizeOf } from './envelope.js';
import { byteLength } from './buffer.js';

// A margin under the collector's limit.
export const MAX_FRAME_BYTES = Math.floor(MAX_MESSAGE_BYTES * 0.95);

/**
 * Opens a websocket to `url` (throws where the browser refuses); `on.open()`,
 * `on.message(msg)` and `on.close(code)` report until `close()` is called.
 */
export function openSocket(env, url, on) {
  const sock = new env.WebSocket(url);
  let live = true;
  let out = Promise.resolve();
  let inbox = Promise.resolve();
  sock.binaryType = 'arraybuffer';
  sock.onopen = () => live && on.open();
  sock.onmessage = (m) => {
    inbox = inbox
      .then(() => (typeof m.data === 'string' ? m.data : gunzip(m.data)))
      .then((text) => {
        const msg = JSON.parse(text);
        if (live && msg) on.message(msg);
      })
      .catch(() => {});
  };
  sock.onerror = () => {}; // a close follows; the browser reports the failure itself
  // After the messages before it (a refusal's error message says why it closed).
  sock.onclose = (e) => {
    inbox = inbox.then(() => {
      if (!live) return;
      live = false;
      on.close(e.code);
    }).catch(() => {});
  };

  // With permessage-deflate (browsers offer it, the collector takes it) the browser compresses text
  // frames off the main thread, with context kept across frames: gzip of each frame on top would cost
  // the page's main thread and lose that context. Then only a text over the frame limit goes as gzip.
  const encodeFrame = (text) => (/deflate/.test(sock.extensions) && byteLength(text) <= MAX_FRAME_BYTES ? text : encode(text));

  return {
    /** Sends the text `build()` makes; when over the frame limit, `shrink()` (if given) and build again. */
    send(build, shrink) {
      out = out
        .then(() => encodeFrame(build()))
        .then((data) => (shrink && sizeOf(data) > MAX_FRAME_BYTES ? (shrink(), encodeFrame(build())) : data))
        .then((data) => { if (sock.readyState === 1) sock.send(data); })
        .catch(() => {});
    },
    /** Ends the connection as a failure: `on.close` follows. */
    abort: () => sock.close(),
    /** Ends the connection quietly: nothing more is reported. */
    close() {
      live = false;
      // Closing a socket that is still connecting makes the browser log an error.
      if (sock.readyState) sock.close(1000);
      else sock.onopen = () => sock.close(1000);
    },
  };
}
