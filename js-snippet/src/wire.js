// The wire contract the snippet shares with the collector (docs/protocol.md;
// replay/core/wire.py on the Python side). Every other file takes these from here. A Python test reads this file with a regex: keep
// each one a plain `export const NAME = literal;` on one line.

export const PROTOCOL_VERSION = 1;

// Tags of the snippet's custom events (rrweb type 5).
export const TAG_NETWORK = 'replay.network';
export const TAG_CONSOLE = 'replay.console';
export const TAG_ERROR = 'replay.error';
export const TAG_IDENTIFY = 'replay.identify';
export const TAG_TRACK = 'replay.track';
export const TAG_DROPPED = 'replay.dropped';
export const TAG_FRUSTRATION = 'replay.frustration';
export const TAG_GAP = 'replay.gap'; // a mutation flood's mutations were dropped (flood.js)

// Websocket close codes the collector ends a connection with.
export const CLOSE_TOO_LARGE = 1009;
export const CLOSE_INVALID = 4400;
export const CLOSE_FORBIDDEN = 4403;
export const CLOSE_UNSUPPORTED_VERSION = 4426;
export const CLOSE_RATE_LIMITED = 4429;
export const CLOSE_TIMEOUT = 4408; // no hello in time, or idle: not an error, connect again when there is something to send
export const CLOSE_SERVER_ERROR = 1011; // a backend is down: retry with backoff
export const CLOSE_TRY_AGAIN = 1013; // over a connection cap: retry later
export const CLOSE_STORAGE_FULL = 4507; // the server's disk is under its floor: no new session is recorded (HTTP 507)

// The collector's limits.
export const MAX_MESSAGE_BYTES = 1024 * 1024; // one websocket frame, as sent
export const MAX_HTTP_BATCH_BYTES = 1024 * 1024; // one POST body, as sent
export const MAX_BATCHES_PER_REQUEST = 200;
export const MAX_EVENTS_PER_BATCH = 5000;
export const MAX_URL_CHARS = 4096;
export const MAX_UA_CHARS = 1024;
export const MAX_RELEASE_CHARS = 100; // the optional release and environment of a hello or envelope
export const MAX_SEQ = 1000 * 1000 * 1000; // the highest batch number of a window

// Session and window ids (a string: build the RegExp where it is used).
export const ID_PATTERN = '^[A-Za-z0-9_-]{8,64}$';
// The secret a session's first hello binds it to: only the recording browser can add to it.
export const SECRET_PATTERN = '^[A-Za-z0-9_-]{16,64}$';

// Redaction both sides apply (privacy.js; replay/core/redact.py): what replaces a secret's value, and the parts
// of a name that make it secret (4 letters or more: anywhere in it; shorter: as a whole word of it).
export const MASK = '[masked]';
export const SECRET_NAME_PARTS = 'token secret passw pwd auth session signature credential jwt card cvv cvc ssn iban key sig code otp pin'; // space-separated
// A project's request-body capture (the "ready" answer): at most this many URL patterns, each this long.
export const MAX_CAPTURE_PATTERNS = 20;
export const MAX_CAPTURE_PATTERN_CHARS = 200;
// Record on failure (docs/protocol.md, "Heartbeat"): a page holding its recording says only that it loaded, here.
export const HEARTBEAT_PATH = '/ingest/heartbeat';
