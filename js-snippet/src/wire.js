// The wire contract the snippet shares with the collector (docs/protocol.md;
// replay/settings.py and replay/protocol.py on the Python side). Every other
// file takes these from here. A Python test reads this file with a regex: keep
// each one a plain `export const NAME = literal;` on one line.

export const PROTOCOL_VERSION = 1;

// Tags of the snippet's custom events (rrweb type 5).
export const TAG_NETWORK = 'replay.network';
export const TAG_CONSOLE = 'replay.console';
export const TAG_ERROR = 'replay.error';
export const TAG_IDENTIFY = 'replay.identify';
export const TAG_TRACK = 'replay.track';
export const TAG_DROPPED = 'replay.dropped';

// Websocket close codes the collector ends a connection with.
export const CLOSE_TOO_LARGE = 1009;
export const CLOSE_INVALID = 4400;
export const CLOSE_FORBIDDEN = 4403;
export const CLOSE_UNSUPPORTED_VERSION = 4426;
export const CLOSE_RATE_LIMITED = 4429;

// The collector's limits.
export const MAX_MESSAGE_BYTES = 1024 * 1024; // one websocket frame, as sent
export const MAX_HTTP_BATCH_BYTES = 1024 * 1024; // one POST body, as sent
export const MAX_BATCHES_PER_REQUEST = 200;
export const MAX_EVENTS_PER_BATCH = 5000;
export const MAX_URL_CHARS = 4096;
export const MAX_UA_CHARS = 1024;

// Session and window ids (a string: build the RegExp where it is used).
export const ID_PATTERN = '^[A-Za-z0-9_-]{8,64}$';
