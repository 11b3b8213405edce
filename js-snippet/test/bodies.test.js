// Request bodies of failed calls: recorded only where the collector asked (its ready's `capture`),
// scrubbed before they leave the page; query secrets masked on every call.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fakePage, recorder, response, tick, ORIGIN } from './page.js';
import { startNetwork } from '../src/network.js';
import { until } from './fakes.js';
import { createCapture } from '../src/capture.js';
import { MASK, TAG_NETWORK } from '../src/wire.js';

const ENDPOINT = 'https://replay.test';
const start = (capture) => {
  const rec = recorder();
  const stop = startNetwork({ emit: rec.emit, endpoint: ENDPOINT, sessionId: () => 'session-id-0001', early: null, capture });
  return { stop, calls: () => rec.of(TAG_NETWORK) };
};
const settle = async () => { for (let i = 0; i < 20; i++) await tick(); };
const BODY = JSON.stringify({ email: 'a@b.test', password: 'hunter2', card: '4111 1111 1111 1111', qty: 2 });

test('an opted-in URL: the failed call carries its body, scrubbed; a successful one none; the query masked', async () => {
  const page = fakePage();
  const capture = createCapture();
  capture.set({ requestBodies: ['/api/*'] });
  const { calls } = start(capture);
  fetch('/api/pay?token=abc&step=2', { method: 'POST', body: BODY });
  page.fetched[0].answer.resolve(response(502, 'bad gateway'));
  fetch('/api/ok', { method: 'POST', body: BODY });
  page.fetched[1].answer.resolve(response(200, 'ok'));
  const xhr = new XMLHttpRequest();
  xhr.open('POST', '/api/form');
  xhr.send('user=bob&password=hunter2');
  page.xhrs[0].respond(500, 'no');
  fetch(new Request(ORIGIN + '/api/req', { method: 'POST', body: BODY })); // read from a copy: fetch takes the original
  page.fetched[2].answer.resolve(response(502, 'bad'));
  await until(() => calls().length === 4, 3000); // the successful one waits a while for its timing entry
  assert.equal(JSON.parse(calls().find((c) => c.url.endsWith('/api/req')).requestBody).password, MASK);

  const at = (path) => calls().find((c) => c.url.startsWith(ORIGIN + path));
  const [pay, ok, form] = [at('/api/pay'), at('/api/ok'), at('/api/form')];
  assert.equal(pay.url, ORIGIN + `/api/pay?token=${MASK}&step=2`);
  assert.deepEqual(JSON.parse(pay.requestBody), { email: 'a@b.test', password: MASK, card: MASK, qty: 2 });
  assert.equal(pay.requestBodyScrubbed, true);
  assert.equal('requestBody' in ok, false, 'bodies of failed calls only');
  assert.equal(form.requestBody, `user=bob&password=${MASK}`);
  assert.equal(page.fetched[0].url, ORIGIN + '/api/pay?token=abc&step=2', 'the page still sends what it sent');
});

test('a URL no pattern names, or no capture at all: no body', async () => {
  const page = fakePage();
  const capture = createCapture();
  capture.set({ requestBodies: ['https://api.other.test/*'] });
  const { calls } = start(capture);
  fetch('/api/pay', { method: 'POST', body: BODY });
  page.fetched[0].answer.resolve(response(502, 'bad'));
  await settle();
  assert.equal('requestBody' in calls()[0], false);

  fakePage();
  const plain = start(); // no capture given: never a body
  fetch('/api/pay', { method: 'POST', body: BODY });
  await settle();
  assert.equal(plain.calls().every((c) => !('requestBody' in c)), true);
});

test('a call that fails before the collector said waits for its answer; a Request is not copied before it said', async () => {
  const page = fakePage();
  const capture = createCapture();
  const { calls } = start(capture);
  fetch(new Request(ORIGIN + '/api/pay', { method: 'POST', body: BODY })); // a Request: copied only once asked
  fetch('/api/pay', { method: 'POST', body: new URLSearchParams({ q: 'x', secret: 's3' }) });
  page.fetched[0].answer.resolve(response(502, 'bad'));
  page.fetched[1].answer.resolve(response(502, 'bad'));
  await settle();
  assert.equal(calls().length, 0, 'held until the collector says');
  capture.set({ requestBodies: ['/api/pay'] });
  await settle();
  const [req, form] = calls().sort((a, b) => ('requestBody' in a) - ('requestBody' in b));
  assert.equal('requestBody' in req, false, 'its body was not copied before the collector said');
  assert.equal(form.requestBody, `q=x&secret=${MASK}`);
});
