// Resource timing: calls that escaped every wrapper are recovered (once, never
// a call the snippet or the loader recorded), and calls get the breakdown
// of their time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fakePage, runLoader, recorder, response, tick, ORIGIN } from './page.js';
import { takeLoader } from '../src/early.js';
import { startNetwork } from '../src/network.js';
import { until } from './fakes.js';
import { createLeaving } from '../src/leaving.js';
import { TAG_NETWORK } from '../src/wire.js';

const ENDPOINT = 'https://replay.test';
const start = (early = null) => {
  const rec = recorder();
  const stop = startNetwork({ emit: rec.emit, endpoint: ENDPOINT, sessionId: () => 'session-id-0001', early });
  return { rec, stop, calls: () => rec.of(TAG_NETWORK) };
};
const byUrl = (calls) => Object.fromEntries(calls.map((c) => [c.url.replace(ORIGIN, ''), c]));
const settle = async () => { for (let i = 0; i < 20; i++) await tick(); };

test('calls made before the snippet (no loader) are recovered once, with status and timing; its own calls never', async () => {
  const page = fakePage();
  page.entries.push(page.entry('/api/me', 10)); // ended before the snippet came
  page.entries.push({ ...page.entry('/logo.png', 11), initiatorType: 'img' }); // not a call
  page.entries.push({ ...page.entry('/api/cart', 12, { responseStatus: 200 }), initiatorType: 'xmlhttprequest' });
  const { calls } = start();
  assert.deepEqual(calls().map((c) => c.url), [ORIGIN + '/api/me', ORIGIN + '/api/cart'], 'at once, from the buffer');

  // Started before the snippet, ended after it: the observer brings it.
  page.observe(page.entry('/api/slow', 20, { responseStatus: 504 }));
  // The snippet's own calls also end up in resource timing: never recovered.
  const t = performance.now();
  fetch('/api/later');
  page.fetched[0].answer.resolve(response(502, 'bad'));
  await settle();
  page.observe(page.entry('/api/later', t + 0.4));
  await settle(); // and the observer's buffered delivery repeats the first three

  const found = byUrl(calls());
  assert.deepEqual(Object.keys(found).sort(), ['/api/cart', '/api/later', '/api/me', '/api/slow']);
  assert.equal(calls().length, 4, 'each once');
  const me = found['/api/me'];
  assert.deepEqual(me, {
    method: null, url: ORIGIN + '/api/me', status: 502, statusText: '', initiator: 'fetch',
    startTime: Math.round(performance.timeOrigin + 10), duration: 30, failed: true, error: null, recovered: true,
    timing: { dns: 2, connect: 2, tls: 4, ttfb: 15, download: 5 },
  });
  assert.equal(found['/api/cart'].initiator, 'xhr');
  assert.equal(found['/api/cart'].failed, false);
  assert.equal(found['/api/slow'].status, 504);
  assert.equal(found['/api/later'].recovered, undefined);
  assert.equal(found['/api/later'].method, 'GET');
});

test('with a loader, its calls (ended or in flight) are not recovered again; one it never saw is', async () => {
  const page = fakePage();
  page.entries.push(page.entry('/api/before-loader', 1, { responseStatus: 0 })); // a script above the loader
  const early = await runLoader();
  fetch('/api/me');
  fetch('/api/me'); // the same URL twice
  fetch('/api/slow');
  const [me1, me2, slow] = early.q;
  page.fetched[0].answer.resolve(response(502, 'one'));
  page.fetched[1].answer.resolve(response(200, 'two'));
  await settle();
  page.observe(page.entry('/api/me', me1.p + 0.3));
  page.observe(page.entry('/api/me', me2.p + 0.5, { responseStatus: 200 }));

  const { calls } = start(takeLoader());
  page.fetched[2].answer.resolve(response(503, 'busy'));
  await settle();
  page.observe(page.entry('/api/slow', slow.p + 0.2, { responseStatus: 503 }));
  await settle();

  const urls = calls().map((c) => c.url.replace(ORIGIN, '') + (c.recovered ? ' (recovered)' : '')).sort();
  assert.deepEqual(urls, ['/api/before-loader (recovered)', '/api/me', '/api/me', '/api/slow']);
  const before = calls().find((c) => c.recovered);
  assert.equal(before.status, 0, 'the browser did not say');
  assert.equal(before.failed, false);
});

test("a call carries the breakdown of its time where resource timing has it", async () => {
  const page = fakePage();
  const { calls } = start();
  const t = performance.now();
  fetch('/api/orders');
  // The browser has the entry by the time the body is in.
  page.entries.push(page.entry('/api/orders', t + 0.4));
  page.fetched[0].answer.resolve(response(502, 'bad'));
  fetch('https://api.other.test/x'); // another origin, no Timing-Allow-Origin: zeros
  page.entries.push({ ...page.entry('https://api.other.test/x', t + 1), requestStart: 0, responseStart: 0, responseStatus: 0 });
  page.fetched[1].answer.resolve(response(500, 'no'));
  fetch('/api/ok');
  page.entries.push(page.entry('/api/ok', t + 2, { responseStatus: 200 }));
  page.fetched[2].answer.resolve(response(200, 'fine'));
  await settle();

  const found = byUrl(calls());
  assert.deepEqual(found['/api/orders'].timing, { dns: 2, connect: 2, tls: 4, ttfb: 15, download: 5 });
  assert.equal('timing' in found['https://api.other.test/x'], false);
  assert.deepEqual(found['/api/ok'].timing, { dns: 2, connect: 2, tls: 4, ttfb: 15, download: 5 }, 'successful calls too');
});

test('a successful call waits a while for its timing entry, and goes at once when the page is left', async () => {
  const page = fakePage();
  const leaving = createLeaving();
  const rec = recorder();
  const stop = startNetwork({ emit: rec.emit, endpoint: ENDPOINT, sessionId: () => 'sess', leaving });
  const t = performance.now();
  fetch('/api/late');
  page.fetched[0].answer.resolve(response(200, 'fine'));
  await settle();
  assert.equal(rec.of(TAG_NETWORK).length, 0, 'not yet: its entry comes once the body is in');
  page.entries.push(page.entry('/api/late', t + 0.5, { responseStatus: 200 }));
  await until(() => rec.of(TAG_NETWORK).length === 1, 2000);
  assert.equal(rec.of(TAG_NETWORK)[0].timing.ttfb, 15);

  fetch('/api/never-timed');
  page.fetched[1].answer.resolve(response(200, 'fine'));
  await settle();
  dispatchEvent(new Event('pagehide'));
  assert.equal(rec.of(TAG_NETWORK).length, 2, 'sent as it is, before the last beacons');
  assert.equal('timing' in rec.of(TAG_NETWORK)[1], false);
  await new Promise((r) => setTimeout(r, 1400));
  assert.equal(rec.of(TAG_NETWORK).length, 2, 'and once only');
  stop();
  leaving.stop();
});

test('a call to the collector itself is neither recorded, tagged nor recovered', async () => {
  const page = fakePage();
  page.entries.push(page.entry(ENDPOINT + '/ingest/batch', 5, { responseStatus: 200 }));
  const { calls } = start();
  fetch(ENDPOINT + '/ingest/batch', { method: 'POST', body: '{}' });
  page.fetched[0].answer.resolve(response(200, '{}'));
  await settle();
  // Recovered only because it started before the snippet (a page may post to the collector itself).
  assert.deepEqual(calls().map((c) => [c.url, !!c.recovered]), [[ENDPOINT + '/ingest/batch', true]]);
  assert.equal(page.fetched[0].headers['x-replay-session'], undefined);
});

test('calls in flight when the page is left are recorded then, cut off by the unload, and once only', async () => {
  const page = fakePage();
  const leaving = createLeaving();
  const rec = recorder();
  const stop = startNetwork({ emit: rec.emit, endpoint: ENDPOINT, sessionId: () => 'sess', leaving });
  fetch('/api/hang');
  const xhr = new XMLHttpRequest();
  xhr.open('GET', '/api/hang-xhr');
  xhr.send();
  await settle();
  dispatchEvent(new Event('pagehide'));
  const cut = rec.of(TAG_NETWORK);
  assert.deepEqual(cut.map((p) => [p.url.replace(ORIGIN, ''), p.status, p.error, p.failed]).sort(),
    [['/api/hang', 0, 'unload', false], ['/api/hang-xhr', 0, 'unload', false]]);
  assert.ok(cut.every((p) => p.duration >= 0));
  page.fetched[0].answer.reject(new TypeError('Failed to fetch')); // the browser ends it after all
  xhr.respond(0, '');
  await settle();
  assert.equal(rec.of(TAG_NETWORK).length, 2, 'not twice');
  stop();
  leaving.stop();
});
