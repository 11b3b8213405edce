"""The wire contract shared with the browser snippet: one module here, `js-snippet/src/wire.js` there.

tests/test_wire_contract.py reads both and fails when they drift. Limits here are
the defaults; `replay.core.settings` takes them as its own defaults, so a
deployment can still tune them with REPLAY_* variables.
"""
from __future__ import annotations

PROTOCOL_VERSION = 1

# Tags of the snippet's custom rrweb events (docs/protocol.md).
TAG_NETWORK = "replay.network"
TAG_CONSOLE = "replay.console"
TAG_ERROR = "replay.error"
TAG_IDENTIFY = "replay.identify"
TAG_TRACK = "replay.track"
TAG_DROPPED = "replay.dropped"
TAG_FRUSTRATION = "replay.frustration"
# A mutation flood's mutations were dropped; a full snapshot follows (js-snippet/src/flood.js).
TAG_GAP = "replay.gap"

# Websocket close codes (docs/protocol.md): 44xx mirror the HTTP statuses of the same refusals.
CLOSE_TOO_LARGE = 1009
CLOSE_INVALID = 4400
CLOSE_FORBIDDEN = 4403
CLOSE_UNSUPPORTED_VERSION = 4426
CLOSE_RATE_LIMITED = 4429
# No hello in time, or nothing sent for the idle time: reconnect when there is something to send.
CLOSE_TIMEOUT = 4408
# The server could not take the message now (a backend is down, or a bug): retry with backoff.
CLOSE_SERVER_ERROR = 1011
# Over a connection cap of the server: retry later, with backoff.
CLOSE_TRY_AGAIN = 1013
# The server's disk is under its free-space floor: it records no new session (HTTP 507); do not reconnect.
CLOSE_STORAGE_FULL = 4507

# Limits the snippet sizes its messages by.
MAX_MESSAGE_BYTES = 1024 * 1024
MAX_HTTP_BATCH_BYTES = 1024 * 1024
MAX_BATCHES_PER_REQUEST = 200
MAX_EVENTS_PER_BATCH = 5000
MAX_URL_CHARS = 4096
MAX_UA_CHARS = 1024
# The optional release and environment a hello or envelope names (longer ones are refused).
MAX_RELEASE_CHARS = 100
# A window's batches are numbered from 1; no page lives to send this many.
MAX_SEQ = 1_000_000_000

# Session and window ids, and the secret a session's first hello binds it to.
ID_PATTERN = "^[A-Za-z0-9_-]{8,64}$"
SECRET_PATTERN = "^[A-Za-z0-9_-]{16,64}$"

# Redaction both sides apply (js-snippet/src/privacy.js, replay/core/redact.py): what replaces a secret's value,
# and the parts of a name (query parameter, form field, JSON key) that make it secret. Parts of 4 letters or
# more match anywhere in the name; shorter ones only as a whole word of it (api_key, apiKey, key; not monkey).
MASK = "[masked]"
SECRET_NAME_PARTS = "token secret passw pwd auth session signature credential jwt card cvv cvc ssn iban key sig code otp pin"
# A project's request-body capture (docs/protocol.md, "ready"): at most this many URL patterns, each this long.
MAX_CAPTURE_PATTERNS = 20
MAX_CAPTURE_PATTERN_CHARS = 200
# Record on failure (docs/protocol.md, "Heartbeat"): a page holding its recording says only that it loaded, here.
HEARTBEAT_PATH = "/ingest/heartbeat"
