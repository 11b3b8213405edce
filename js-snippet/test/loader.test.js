// The loader: wraps fetch, XHR and console from the first line of the page,
// tags same-origin calls with the session the snippet will use, queues what it
// saw, and hands it all over to the snippet, with nothing recorded twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fakePage, runLoader, recorder, response, tick, ORIGIN } from './page.js';
import { takeLoader, stubCalls, LOADER_GLOBAL, STUB } from '../src/early.js';
import { startErrors } from '../src/errors.js';
import { createSession } from '../src/session.js';
import { startNetwork } from '../src/network.js';
import { startConsole } from '../src/console.js';
import { TAG_NETWORK, TAG_CONSOLE, TAG_ERROR } from '../src/wire.js';

const ENDPOINT = 'https://replay.test';
const storedId = (page) => JSON.parse(page.storage.getItem('__replay_session')).id;

/** The snippet's side of the hand-over, as index.js does it. */
function takeOver(page) {
  const early = takeLoader();
  const session = createSession(Date.now(), early ? early.st : undefined);
  const rec = recorder();
  const stops = [startConsole(rec.emit, early), startNetwork({ emit: rec.emit, endpoint: ENDPOINT, sessionId: () => session.id, early })];
  if (early && early.live) stops.unshift(() => early.x());
  if (early) early.q.length = 0;
  return { early, session, rec, stop: () => stops.forEach((s) => s()) };
}

/** Waits until `check()` holds (bodies are read on the side). */
async function until(check) {
  // Real time: a successful call waits a while for its resource timing entry (network.js).
  for (const end = Date.now() + 3000; !check() && Date.now() < end;) await new Promise((r) => setTimeout(r, 5));
  assert.ok(check());
}

test('same-origin calls from the first line carry the session the snippet then adopts; other origins never', async () => {
  const page = fakePage();
  const early = await runLoader();
  assert.equal(window[LOADER_GLOBAL], early);
  fetch('/api/me');
  fetch('https://cdn.test/lib.json');
  fetch(new Request(ORIGIN + '/api/orders', { method: 'POST', headers: { 'content-type': 'application/json' } }));
  const xhr = new XMLHttpRequest();
  xhr.open('GET', '/api/cart');
  xhr.send();
  const other = new XMLHttpRequest();
  other.open('GET', 'https://other.test/api');
  other.send();

  const id = storedId(page);
  assert.equal(page.fetched[0].headers['x-replay-session'], id);
  assert.equal(page.fetched[1].headers['x-replay-session'], undefined);
  assert.equal(page.fetched[2].headers['x-replay-session'], id);
  assert.equal(page.fetched[2].headers['content-type'], 'application/json', 'the request keeps its own headers');
  assert.equal(page.fetched[2].method, 'POST');
  assert.deepEqual(page.xhrs[0].sentHeaders, [['X-Replay-Session', id]]);
  assert.deepEqual(page.xhrs[1].sentHeaders, []);

  const { session } = takeOver(page);
  assert.equal(session.id, id, 'the snippet records into the session the early calls named');
});

test("the loader's tag takes the snippet's data-correlation and data-correlation-paths", async () => {
  let page = fakePage({ dataset: { correlationPaths: '/api/' } });
  await runLoader();
  fetch('/api/me');
  fetch('/redirects/elsewhere');
  assert.equal(page.fetched[0].headers['x-replay-session'], storedId(page));
  assert.equal(page.fetched[1].headers['x-replay-session'], undefined);

  page = fakePage({ dataset: { correlation: 'off' } });
  await runLoader();
  fetch('/api/me');
  assert.equal(page.fetched[0].headers['x-replay-session'], undefined);
});

test('without sessionStorage the snippet still adopts the loader session', async () => {
  const page = fakePage();
  Object.defineProperty(globalThis, 'sessionStorage', { get() { throw new Error('SecurityError'); }, configurable: true });
  await runLoader();
  fetch('/api/me');
  const { session } = takeOver(page);
  assert.match(session.id, /^[\w-]{21}$/);
  assert.equal(page.fetched[0].headers['x-replay-session'], session.id);
});

test('calls and console lines wait in the queue, then are recorded once, with their own times', async () => {
  const page = fakePage();
  const early = await runLoader();
  const t0 = Date.now();
  console.log('loading account', { id: 7 });
  console.error('account: no answer');
  const me = fetch('/api/me');
  page.fetched[0].answer.resolve(response(502, '<html>502 Bad Gateway</html>', { 'content-type': 'text/html', server: 'nginx' }));
  assert.equal(await (await me).text(), '<html>502 Bad Gateway</html>', 'the page reads its body as always');
  const cart = new XMLHttpRequest();
  cart.open('post', '/api/cart');
  cart.setRequestHeader('Authorization', 'Bearer page-secret');
  cart.setRequestHeader('Content-Type', 'application/json');
  cart.send();
  cart.respond(504, 'Gateway Time-out', { 'content-type': 'text/plain' });
  fetch('/api/slow'); // still in flight when the snippet comes
  await tick();

  assert.deepEqual(page.printed.map((p) => p.slice(0, 2)), [['log', 'loading account'], ['error', 'account: no answer']], 'the console prints as always');
  assert.deepEqual(early.q.map((r) => r.c || r.u.replace(ORIGIN, '')), ['log', 'error', '/api/me', '/api/cart', '/api/slow']);

  const { rec } = takeOver(page);
  const lines = rec.events.filter((e) => e.tag === TAG_CONSOLE);
  assert.deepEqual(lines.map((e) => [e.payload.level, e.payload.args]), [['log', ['loading account', '{"id":7}']], ['error', ['account: no answer']]]);
  assert.ok(lines.every((e) => e.timestamp >= t0 && e.timestamp <= Date.now()), 'console lines keep the time they were logged');
  assert.match(lines[1].payload.trace, /loader\.test\.js/, 'an error line keeps its stack, from the caller on');
  assert.ok(lines[1].urgent);

  await until(() => rec.of(TAG_NETWORK).length === 2);
  const [first, second] = rec.of(TAG_NETWORK).sort((a, b) => a.startTime - b.startTime);
  assert.equal(first.url, ORIGIN + '/api/me');
  assert.equal(first.status, 502);
  assert.equal(first.failed, true);
  assert.equal(first.initiator, 'fetch');
  assert.equal(first.responseBody, '<html>502 Bad Gateway</html>', 'read from the clone the loader kept');
  assert.equal(first.responseHeaders.server, 'nginx');
  assert.ok(first.startTime >= t0 && first.duration >= 0);
  assert.equal(second.method, 'POST');
  assert.equal(second.status, 504);
  assert.equal(second.responseBody, 'Gateway Time-out');
  assert.deepEqual(second.requestHeaders, { 'content-type': 'application/json' }, 'credentials never recorded');
  const netEvents = rec.events.filter((e) => e.tag === TAG_NETWORK);
  assert.ok(netEvents.every((e) => e.urgent && e.timestamp === Math.round(e.payload.startTime + e.payload.duration)));

  // The call in flight at the hand-over ends: the snippet records it, once.
  page.fetched[1].answer.resolve(response(200, '{}'));
  await until(() => rec.of(TAG_NETWORK).length === 3);
  assert.equal(rec.of(TAG_NETWORK)[2].url, ORIGIN + '/api/slow');
  assert.equal(rec.of(TAG_NETWORK)[2].status, 200);

  // From now on the snippet's wrappers record, and the loader's queue stays as it was.
  console.warn('after');
  const later = new XMLHttpRequest();
  later.open('GET', '/api/later');
  later.send();
  later.respond(200, 'ok');
  fetch('/api/after');
  page.fetched[2].answer.resolve(response(200, 'ok'));
  await until(() => rec.of(TAG_NETWORK).length === 5);
  await tick();
  assert.equal(early.q.length, 0, 'taken, and nothing queued since');
  const urls = rec.of(TAG_NETWORK).map((p) => p.url.replace(ORIGIN, ''));
  assert.deepEqual(urls.slice().sort(), ['/api/after', '/api/cart', '/api/later', '/api/me', '/api/slow']);
  assert.deepEqual(rec.of(TAG_CONSOLE).map((p) => p.args[0]), ['loading account', 'account: no answer', 'after']);
  assert.equal(page.fetched[2].headers['x-replay-session'], storedId(page), 'tagged once, by the snippet');
  assert.deepEqual(later.sentHeaders, [['X-Replay-Session', storedId(page)]]);
});

test("the loader's wrappers stay and record for the snippet; stopping puts the native functions back", async () => {
  const page = fakePage();
  await runLoader();
  const loaderFetch = window.fetch;
  const loaderSend = XMLHttpRequest.prototype.send;
  assert.notEqual(loaderFetch, page.nativeFetch);
  const { stop } = takeOver(page);
  assert.equal(window.fetch, loaderFetch, 'not wrapped twice');
  assert.equal(XMLHttpRequest.prototype.send, loaderSend);
  stop();
  assert.equal(window.fetch, page.nativeFetch);
  assert.equal(console.error, page.console.error);
  assert.equal(XMLHttpRequest.prototype.open, page.nativeXHR.open);
});

test('a library that kept the loader\'s fetch and console.error before the snippet came is recorded after, once', async () => {
  const page = fakePage();
  await runLoader();
  const libFetch = window.fetch; // what a library or logger keeps at import
  const libLog = console.error;
  const { rec, session } = takeOver(page);
  libFetch('/api/lib-ref');
  libLog('lib logger line');
  fetch('/api/global');
  page.fetched[0].answer.resolve(response(502, 'bad'));
  page.fetched[1].answer.resolve(response(502, 'bad'));
  await until(() => rec.of(TAG_NETWORK).length === 2);
  await tick();
  assert.deepEqual(rec.of(TAG_NETWORK).map((p) => p.url.replace(ORIGIN, '')).sort(), ['/api/global', '/api/lib-ref']);
  assert.deepEqual(rec.of(TAG_CONSOLE).map((p) => p.args), [['lib logger line']]);
  assert.equal(page.fetched[0].headers['x-replay-session'], session.id, 'tagged with the snippet\'s session');
  assert.deepEqual(page.printed.filter((p) => p[0] === 'error').map((p) => p[1]), ['lib logger line'], 'printed once');
});

test('an older loader (version 1) comes off; its queue is taken and the snippet wraps on its own', async () => {
  const page = fakePage();
  const early = await runLoader();
  console.log('queued by a version 1 loader');
  early.v = 1;
  const { rec, stop } = takeOver(page);
  assert.equal(early.live, false);
  assert.deepEqual(rec.of(TAG_CONSOLE).map((p) => p.args), [['queued by a version 1 loader']]);
  assert.notEqual(window.fetch, page.nativeFetch, 'the snippet\'s own wrapper');
  fetch('/api/after');
  page.fetched[0].answer.resolve(response(500, 'no'));
  await until(() => rec.of(TAG_NETWORK).length === 1);
  stop();
  assert.equal(window.fetch, page.nativeFetch);
});

test("a page's wrapper on top of the loader's stays; the loader's goes inert and nothing is recorded twice", async () => {
  const page = fakePage();
  const early = await runLoader();
  const loaderFetch = window.fetch;
  const loaderLog = console.log;
  window.fetch = function () { return loaderFetch.apply(this, arguments); };
  console.log = function () { return loaderLog.apply(this, arguments); };
  const { rec, session } = takeOver(page);
  fetch('/api/x');
  console.log('one line');
  page.fetched[0].answer.resolve(response(500, 'boom'));
  await until(() => rec.of(TAG_NETWORK).length === 1);
  await tick();
  assert.equal(rec.of(TAG_NETWORK).length, 1);
  assert.deepEqual(rec.of(TAG_CONSOLE).map((p) => p.args), [['one line']]);
  assert.deepEqual(page.printed, [['log', 'one line']], 'printed once');
  assert.equal(early.q.length, 0, 'the inert loader queued nothing');
  assert.equal(page.fetched[0].headers['x-replay-session'], session.id);
});

test('a second Replay.init finds nothing more to take', async () => {
  fakePage();
  await runLoader();
  console.log('early');
  const first = takeOver();
  const second = takeOver();
  assert.deepEqual(first.rec.of(TAG_CONSOLE).map((p) => p.args), [['early']]);
  assert.equal(second.early, null);
  assert.deepEqual(second.rec.events, []);
});

test('a loader of another version is switched off and its queue left alone; markup posing as one is ignored', async () => {
  const page = fakePage();
  const early = await runLoader();
  console.log('queued by an old loader');
  early.v = 99;
  assert.equal(takeLoader(), null);
  assert.equal(window.fetch, page.nativeFetch);
  assert.equal(console.log, page.console.log);

  fakePage();
  window[LOADER_GLOBAL] = { v: 1, q: [{ c: 'log', a: ['forged'] }], x: { name: 'x' } }; // <form id=__replay><input name=x>
  assert.equal(takeLoader(), null);
  delete window[LOADER_GLOBAL];
  assert.equal(takeLoader(), null, 'no loader at all');
});

test('a page that never loads the snippet stops queueing, but its calls keep their header', async () => {
  const page = fakePage();
  const early = await runLoader();
  for (let i = 0; i < 1200; i++) console.debug('line', i);
  assert.equal(early.q.length, 1000);
  fetch('/api/me');
  assert.equal(page.fetched[0].headers['x-replay-session'], storedId(page));
  assert.equal(early.q.length, 1000);
});

test('the loader runs once however often it is included', async () => {
  const page = fakePage();
  const early = await runLoader();
  const wrapped = window.fetch;
  assert.equal(await runLoader(), early);
  assert.equal(window.fetch, wrapped);
  fetch('/api/me');
  assert.equal(early.q.length, 1);
  assert.equal(Object.keys(page.fetched[0].headers).filter((h) => h === 'x-replay-session').length, 1);
});

test("uncaught errors before the snippet are queued and recorded at their own time; window.Replay is a stub until then", async () => {
  const page = fakePage();
  // Node has no ErrorEvent; the browser's carries message, filename, lineno, colno and error.
  globalThis.ErrorEvent = class extends Event {
    constructor(type, init) { super(type); Object.assign(this, init); }
  };
  const rejection = (reason) => Object.assign(new Event('unhandledrejection'), { reason });
  const early = await runLoader();
  const t0 = Date.now();
  assert.equal(window.Replay[STUB], 1);
  assert.equal(window.Replay.getSessionURL(), null, 'no session URL before the snippet, and no TypeError');
  window.Replay.identify('u-7', { plan: 'pro' });
  window.Replay.track('opened', { tab: 1 });
  dispatchEvent(new ErrorEvent('error', { message: 'Uncaught Error: boom', filename: ORIGIN + '/app.js', lineno: 3, colno: 9, error: new Error('boom') }));
  dispatchEvent(rejection(new TypeError('no profile')));
  const me = fetch('/api/me');
  page.fetched[0].answer.resolve(response(502, 'Bad Gateway'));
  await me;
  await tick();
  assert.ok(early.q.some((r) => r.k && r.e), 'a call that ended, in the queue');
  assert.deepEqual(stubCalls().map((r) => [r.f, ...r.a]), [['identify', 'u-7', { plan: 'pro' }], ['track', 'opened', { tab: 1 }]]);

  const takenEarly = takeLoader();
  assert.equal(takenEarly, early);
  const rec = recorder();
  const stop = startErrors(rec.emit, early);
  const errors = rec.events.filter((e) => e.tag === TAG_ERROR);
  assert.deepEqual(errors.map((e) => [e.payload.kind, e.payload.message]), [['error', 'Uncaught Error: boom'], ['unhandledrejection', 'TypeError: no profile']],
    'the errors, and nothing made of the ended call');
  assert.equal(errors[0].payload.line, 3);
  assert.match(errors[0].payload.stack, /boom/);
  assert.ok(errors.every((e) => e.urgent && e.timestamp >= t0 && e.timestamp <= Date.now()), 'at the time they happened');

  // The loader's listener is off: a later error is recorded once, by the snippet.
  dispatchEvent(new ErrorEvent('error', { message: 'later', error: new Error('later') }));
  assert.equal(rec.events.filter((e) => e.tag === TAG_ERROR).length, 3);
  assert.equal(early.q.filter((r) => r.w).length, 2, 'nothing queued after the hand-over');
  stop();
  delete globalThis.ErrorEvent;
});

test('the loader leaves a window.Replay the page already has', async () => {
  fakePage();
  const own = { mine: true };
  globalThis.Replay = own;
  await runLoader();
  assert.equal(window.Replay, own);
});
