// Bootstrap: reads the <script> tag, wires session, buffer, transport and the
// recorders together, and exposes window.Replay.
import { EventType, IncrementalSource as Src } from '@rrweb/types';
import { createSession, pageStorage } from './session.js';
import { createBuffer } from './buffer.js';
import { startTransport } from './transport.js';
import { startRecorder, snapshot, record as rrweb } from './recorder.js';
import { startConsole } from './console.js';
import { startErrors } from './errors.js';
import { startNetwork } from './network.js';
import { takeLoader, stubCalls, STUB } from './early.js';
import { startFrustration } from './frustration.js';
import { createCapture } from './capture.js';
import { createLeaving } from './leaving.js';
import { createRolling, fullChoice, triggers, BUFFER_MS } from './onfailure.js';
import { heartbeat } from './heartbeat.js';
import { browserEnv } from './env.js';
import { toSafe } from './serialize.js';
import { maskQuery } from './privacy.js';
import { createFlood } from './flood.js';
import { packMutation } from './pack.js';
import { createCoalesce, TAG_FLUSH } from './coalesce.js';
import { TAG_NETWORK, TAG_CONSOLE, TAG_IDENTIFY, TAG_TRACK, TAG_DROPPED, TAG_GAP } from './wire.js';

// The <script> element running this file: only readable while it first runs, so
// capture it now. Through the prototype's getter, and only a real script element:
// markup the page lets in, such as <img name="currentScript" src=…> (no script
// needed), shadows `document.currentScript` and must never choose where recordings go.
let script = null;
try {
  script = Object.getOwnPropertyDescriptor(Document.prototype, 'currentScript').get.call(document);
} catch { /* not in a page */ }
if (!(script instanceof HTMLScriptElement)) script = null;

// Dropped first when the buffer is over its cap.
const DISPENSABLE_SOURCES = [Src.MouseMove, Src.Scroll, Src.TouchMove, Src.Drag, Src.Selection];
// rrweb events that mean a user is there (they keep the session alive).
const USER_SOURCES = [...DISPENSABLE_SOURCES, Src.MouseInteraction, Src.ViewportResize, Src.Input, Src.MediaInteraction];
const USER_TAGS = [TAG_IDENTIFY, TAG_TRACK];
const MINOR_TAGS = [TAG_CONSOLE, TAG_NETWORK];

let running = null;

const customEvent = (tag, payload, timestamp = Date.now()) => ({ type: EventType.Custom, timestamp, data: { tag, payload } });

// What the tag's relative URLs meant when it was parsed. A <base> further down
// (injected markup, read only once the async script runs) changes what
// `script.src` says, not where snippet.js came from.
function tagBase() {
  const base = Document.prototype.querySelector.call(document, 'base[href]');
  return base && script && base.compareDocumentPosition(script) & 4 /* script follows */ ? base.href : location.href;
}

function scriptEndpoint() {
  // The collector is whoever serves snippet.js (in whatever folder it lives).
  const src = script && script.getAttribute('src');
  return src ? new URL('.', new URL(src, tagBase())).href : location.origin;
}

// Why recording stopped, in the console once per page, with the fix; `why` is what the
// collector said ({code, message}), or {} where the page could not read it (HTTP).
let told = false;
function refused(why, key) {
  stop();
  if (told) return;
  told = true;
  const origin = location.origin;
  const code = why.code;
  console.warn('replay: not recording: ' + (
    code === 'origin_not_allowed'
      ? `origin ${origin} is not allowed for project ${key}; allow it with: replay project origin add ${key} ${origin}`
      : code === 'unknown_project'
        ? `no project has the key ${key}; check the key`
        : code ? code + ': ' + why.message : "refused (see the collector's log)"));
}

/** Start recording; options as in DESIGN.md. A second call is ignored. */
function init(options) {
  if (running) return;
  try {
    const opts = { ...options };
    const key = opts.projectKey;
    if (!key || typeof key !== 'string') return;
    const endpoint = new URL(opts.endpoint || scriptEndpoint(), tagBase()).href.replace(/\/+$/, '');
    // Before anything else: the loader's wrappers come off, and its session is ours.
    const early = takeLoader();
    const env = browserEnv(); // before network.js wraps fetch
    const session = createSession(Date.now(), early ? early.st : undefined);
    const stream = () => ({ session: session.id, secret: session.secret, window: session.window });
    const buffer = createBuffer(stream(), (events, bytes, ts) => customEvent(TAG_DROPPED, { events, bytes }, ts));
    // Stopping takes a live loader's wrappers off too (they record through the snippet's hooks till then).
    const stops = early && early.live ? [() => early.x()] : [];
    let transport = null;
    running = { endpoint, session, stops };
    const meta = { release: opts.release, environment: opts.environment };
    const capture = createCapture(); // before the transport: see capture.js
    const leaving = createLeaving(); // before the transport: see leaving.js
    const coalesce = createCoalesce(rrweb, leaving);
    // Record on failure (onfailure.js): `rolling` trims the buffer while nothing is sent.
    const choice = fullChoice(early ? early.st : pageStorage());
    const full = choice.get(session.id);
    let rolling = null;
    let recording = null;
    let who = null; // the last identify while held: it must not roll away
    const record = () => {
      if (recording) recording();
      recording = startRecorder(onRecord, { ...opts, checkoutEveryNms: rolling ? +opts.bufferMs || BUFFER_MS : 0 });
    };
    const hold = () => {
      if (transport) transport.halt();
      transport = null;
      rolling = createRolling(buffer);
      if (recording) record();
    };
    const onCapture = (c) => {
      capture.set(c);
      const rate = c && c.sampleRate;
      if (typeof rate !== 'number' || choice.get(session.id) !== undefined) return;
      choice.set(session.id, env.random() < rate);
      choice.get(session.id) ? live() : hold();
    };
    const live = () => {
      if (!running || (transport && !rolling)) return;
      if (rolling) choice.set(session.id, true); // failed, or sampled in: the rest of this session, on every page
      rolling = null;
      transport = startTransport({ endpoint, key, meta, buffer, env, onFatal: (why) => refused(why, key), onCapture });
      if (recording) record(); // without checkouts
      if (who) emit(TAG_IDENTIFY, who);
    };

    const add = (event, dispensable, urgent, activity) => {
      if (session.touch(event.timestamp, activity)) {
        buffer.setStream(stream());
        // The new session must replay on its own, so it starts with a full snapshot,
        // which already shows what this event did.
        snapshot();
        if (event.type !== EventType.Custom) return;
        event.timestamp = Date.now();
      }
      if (rolling) rolling(event);
      const mutation = event.type === EventType.IncrementalSnapshot && event.data.source === Src.Mutation;
      buffer.add(mutation ? packMutation(event) : event, dispensable, mutation && flood);
      if (transport) transport.kick(urgent);
    };
    const onRecord = (event) => {
      try {
        if (event.type === EventType.Custom && event.data.tag === TAG_FLUSH) return;
        const source = event.type === EventType.IncrementalSnapshot ? event.data.source : -1;
        // The page's URL keeps its parameters' names; secret values (a reset link's token) are masked.
        if (event.type === EventType.Meta && event.data && typeof event.data.href === 'string') event.data.href = maskQuery(event.data.href);
        add(event, DISPENSABLE_SOURCES.includes(source), false, USER_SOURCES.includes(source));
        if (source === Src.Mutation) coalesce.held();
        if (source === Src.Mutation || source === Src.Input) frustration.activity();
      } catch { /* never break the page */ }
    };
    const emit = (tag, payload, urgent, timestamp) => {
      try {
        coalesce.flush(); // the page's changes so far come first
        if (rolling && tag === TAG_IDENTIFY) who = payload;
        if (rolling && triggers(tag, payload, !!opts.capture4xx)) live();
        add(customEvent(tag, payload, timestamp), !urgent && MINOR_TAGS.includes(tag), urgent, USER_TAGS.includes(tag));
      } catch { /* never break the page */ }
    };
    running.emit = emit;
    // A mutation flood: its mutations dropped for a while, then the gap marked and a fresh full snapshot.
    const flood = createFlood((events) => { emit(TAG_GAP, { events }); snapshot(); });
    const frustration = startFrustration(emit, !!opts.maskAllText);
    stops.push(frustration.stop);

    stops.push(() => transport && transport.stop());
    if (full === false || (full === undefined && opts.capture === 'on-failure')) {
      hold();
      heartbeat(env, endpoint, key, onCapture);
    } else live();
    stops.push(startErrors(emit, early));
    stops.push(startConsole(emit, early));
    stops.push(startNetwork({ emit, endpoint, sessionId: () => session.id, correlation: opts.correlationHeader, paths: opts.correlationPaths, early, capture, onStart: frustration.activity, leaving }));
    stops.push(leaving.stop);
    if (early) early.q.length = 0; // taken: its calls' bodies and headers need not stay in reach
    record();
    stops.push(() => recording());
    stops.push(coalesce.flush); // first: what rrweb holds goes out with the last beacons
  } catch {
    stop();
  }
}

/** Stop everything, restore wrapped globals, send what is left. */
function stop() {
  const r = running;
  running = null;
  if (!r) return;
  while (r.stops.length) {
    try { r.stops.pop()(); } catch { /* keep stopping the rest */ }
  }
}

/** Tie this session to a user of the site (no id: null, undefined or blank, is no user). */
function identify(userId, traits, timestamp) {
  const id = userId == null ? '' : String(userId).trim();
  if (running && id) running.emit(TAG_IDENTIFY, { userId: id.slice(0, 256), traits: toSafe(traits || {}) }, false, timestamp);
}

/** A named event of the site's own. */
function track(name, props, timestamp) {
  if (running) running.emit(TAG_TRACK, { name: String(name).slice(0, 256), props: toSafe(props || {}) }, false, timestamp);
}

/** A viewer link to this session at the current moment (null when not recording). */
function getSessionURL() {
  if (!running) return null;
  const { endpoint, session } = running;
  const t = session.started ? Math.max(0, Date.now() - session.started) : 0;
  return endpoint + '/sessions/' + session.id + '?t=' + t;
}

try {
  const current = window.Replay;
  if (!(current && current.getSessionURL) || current[STUB]) {
    let calls = stubCalls(); // before init takes the loader's queue
    // Replay.stop() before the snippet came (consent withdrawn, say): nothing starts,
    // the loader's wrappers come off, and only what the page asked after it is done.
    const stopped = calls.map((r) => r.f).lastIndexOf('stop');
    if (stopped >= 0) {
      calls = calls.slice(stopped + 1);
      const early = takeLoader();
      if (early) {
        early.x(); // its wrappers come off: nothing records, nothing is tagged
        early.q.length = 0;
      }
    }
    // The public API takes only what a site passes; the stub's queued calls also carry their time.
    window.Replay = { init, identify: (u, t) => identify(u, t), track: (n, p) => track(n, p), getSessionURL, stop };
    // Without a real script element, wait for Replay.init; say why when markup posed as one.
    if (!script && document.currentScript) console.warn('replay: not started: document.currentScript is not a <script> element');
    const data = (script && script.dataset) || {};
    if (data.projectKey && stopped < 0) {
      init({
        projectKey: data.projectKey,
        endpoint: data.endpoint,
        correlationHeader: data.correlation !== 'off',
        correlationPaths: data.correlationPaths,
        maskAllText: 'maskAllText' in data,
        release: data.release,
        environment: data.environment,
        capture: data.capture,
        capture4xx: 'capture-4xx' in data || 'capture4xx' in data,
        bufferMs: data.bufferMs,
      });
    }
    const apply = { init: (a) => init(a[0]), identify: (a, s) => identify(a[0], a[1], s), track: (a, s) => track(a[0], a[1], s) };
    calls.forEach((r) => apply[r.f] && apply[r.f](r.a, r.s));
  }
} catch { /* never break the page */ }
