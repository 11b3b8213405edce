// The text of what the transport sends (docs/protocol.md): hello, batch frames,
// HTTP envelopes, and groups of batches sized for one request. Built from the
// buffer's JSON text of each batch, never by re-serialising events.
import { PROTOCOL_VERSION, MAX_URL_CHARS, MAX_UA_CHARS, MAX_RELEASE_CHARS, MAX_BATCHES_PER_REQUEST } from './wire.js';
import { byteLength } from './buffer.js';
import { maskQuery } from './privacy.js';
import { canGzip, gzip } from './compress.js';

const GZIP_MIN_CHARS = 1024;
// Half the collector's limit: a request is refused whole, so stay well clear of it.
const MAX_GROUP_BATCHES = MAX_BATCHES_PER_REQUEST / 2;

/** Text as it goes: gzip (binary) when long enough and the browser can. */
export const encode = (text) => (text.length >= GZIP_MIN_CHARS && canGzip() ? gzip(text) : Promise.resolve(text));

/** Bytes of encoded data, as sent. */
export const sizeOf = (data) => (typeof data === 'string' ? byteLength(data) : data.byteLength);

/**
 * Message builders for project `key`; `env` gives the page's URL and user agent.
 * `meta` ({release, environment}, each optional) goes in every hello and envelope.
 */
export function createEnvelope({ key, meta, buffer, env }) {
  const named = {};
  for (const k in meta) if (meta[k] != null && meta[k] !== '') named[k] = String(meta[k]).slice(0, MAX_RELEASE_CHARS);
  const intro = (s) => ({
    v: PROTOCOL_VERSION,
    key,
    session: s.session,
    secret: s.secret,
    window: s.window,
    url: maskQuery(env.location.href).slice(0, MAX_URL_CHARS),
    ua: env.userAgent.slice(0, MAX_UA_CHARS),
    ...named,
  });
  const batchJSON = (b) => '{"seq":' + b.seq + ',"events":[' + buffer.eventsJSON(b) + ']}';
  const head = (s) => JSON.stringify(intro(s)).slice(0, -1) + ',"batches":[';

  return {
    hello: (s) => JSON.stringify({ type: 'hello', ...intro(s), ts: Date.now() }),
    frame: (b) => '{"type":"batch",' + batchJSON(b).slice(1),
    /** One HTTP request's body: batches of one stream. */
    envelope: (group) => head(group[0].stream) + group.map(batchJSON).join(',') + ']}',
    /**
     * Runs of batches of one stream, at most MAX_GROUP_BATCHES each, each group's envelope
     * under `limit` bytes (`group.bytes`, an upper bound) unless it is one batch
     * that alone is over.
     */
    groups(list, limit) {
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
    },
  };
}
