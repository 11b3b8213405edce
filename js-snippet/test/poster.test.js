// The HTTP side of the transport (no WebSocket in this browser): what the
// collector receives by POST, and when.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { started, settle, until } from './fakes.js';
import { TAG_DROPPED } from '../src/wire.js';

const http = (options) => started({ webSocket: false, ...options });
const posts = async (b) => (await b.sent()).filter((e) => e.via === 'post');

test('without WebSocket, batches go by POST in order, one request per group', async () => {
  const b = http();
  b.batch();
  b.batch(2);
  await b.clock.advance(250); // the first POST waits one jittered base delay
  b.batch();
  await settle();
  assert.deepEqual(await b.lines(), ['post 1,2', 'post 3']);
  const [first] = await posts(b);
  assert.deepEqual(first.msg.batches.map((x) => x.events.map((e) => e.data.payload.n)), [[1], [2, 3]]);
});

test('failed POSTs are retried with delays that grow, are capped at 30 s and jittered; a success starts over', async () => {
  const randoms = [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.2, 0.8];
  const b = http({ random: () => randoms.shift() ?? 0.5 });
  b.respond = () => 503;
  b.batch();
  await b.clock.advance(5 * 60 * 1000);
  const at = (await posts(b)).map((e) => e.at);
  const waits = at.slice(1).map((t, i) => t - at[i]);
  assert.equal(at[0], 250);
  // 0.5 × min(30 s, 500 ms × 2^n), then the jitter of 0.2 and 0.8 on the cap.
  assert.deepEqual(waits.slice(0, 9), [500, 1000, 2000, 4000, 8000, 15000, 15000, 6000, 24000]);

  b.respond = () => 200;
  await b.clock.advance(30000);
  const n = (await posts(b)).length;
  b.respond = () => 503;
  b.batch();
  await settle();
  await b.clock.advance(250);
  const later = (await posts(b)).slice(n).map((e) => e.at);
  assert.equal(later.length, 2, 'the next batch goes at once, its retry after the base delay');
  assert.equal(later[1] - later[0], 250);
});

test('a network error is retried like a 5xx', async () => {
  const b = http();
  b.respond = () => 'network';
  b.batch();
  await b.clock.advance(250);
  b.respond = () => 200;
  await b.clock.advance(500);
  assert.deepEqual(await b.lines(), ['post 1', 'post 1']);
});

test('a 413 on a group of several batches sends them again in smaller groups, none lost, none twice', async () => {
  const b = http();
  const MAX = 100 * 1000;
  b.respond = (msg) => (JSON.stringify(msg).length > MAX ? 413 : 200);
  for (let i = 0; i < 6; i++) b.batch(1, 40 * 1000);
  await b.clock.advance(250);
  await until(async () => (await b.lines()).length >= 4);
  assert.deepEqual(await b.lines(), ['post 1,2,3,4,5,6', 'post 1,2', 'post 3,4', 'post 5,6']);
  const sent = await posts(b);
  assert.ok(sent.every((e) => e.at === 250), 'no backoff: a split is not a failure');
  assert.ok(sent.slice(1).every((e) => e.msg.batches.every((x) => x.events[0].data.tag === 'test')), 'nothing collapsed');
  b.batch();
  await settle();
  assert.deepEqual((await b.lines()).slice(4), ['post 7'], 'the next batch goes in a smaller group too, and alone');
});

test('a 413 on one batch sends it again as a replay.dropped marker; a marker refused backs off', async () => {
  const b = http();
  b.respond = (msg) => (JSON.stringify(msg).length > 10 * 1000 ? 413 : 200);
  b.batch(3, 15 * 1000);
  b.batch(1, 10);
  await b.clock.advance(250);
  await until(async () => (await b.lines()).length >= 3);
  // Batch 1 holds three 15 KB events. Refused with batch 2, then alone; then
  // its marker goes, small enough to share a request with batch 2 again.
  assert.deepEqual(await b.lines(), ['post 1,2', 'post 1', 'post 1,2']);
  const [, , last] = await posts(b);
  assert.deepEqual(last.msg.batches[0].events.map((e) => e.data.tag), [TAG_DROPPED]);
  assert.equal(last.msg.batches[0].events[0].data.payload.events, 3);
  assert.ok(last.msg.batches[0].events[0].data.payload.bytes > 45 * 1000);
  assert.deepEqual(last.msg.batches[1].events.map((e) => e.data.payload.n), [4]);

  // A collector that refuses even the marker: wait, do not spin.
  b.respond = () => 413;
  const n = (await posts(b)).length;
  b.batch(1, 20 * 1000);
  await until(async () => (await posts(b)).length >= n + 2);
  await b.clock.advance(0);
  assert.equal((await posts(b)).length, n + 2, 'the batch, then its marker');
  await b.clock.advance(0.5 * 500 - 1); // the last POST succeeded: the base delay
  assert.equal((await posts(b)).length, n + 2);
  await b.clock.advance(1);
  assert.equal((await posts(b)).length, n + 3);
});

for (const status of [400, 403, 426]) {
  test(`HTTP ${status} stops everything: no more POSTs, no beacons`, async () => {
    const b = http();
    b.respond = () => status;
    b.batch();
    await b.clock.advance(250);
    assert.equal(b.fatal, 1);
    assert.deepEqual(b.why, {}, 'the page cannot read why: the collector logs it');
    b.batch();
    b.transport.kick(true);
    await b.clock.advance(10 * 60 * 1000);
    b.page('pagehide');
    await settle();
    assert.deepEqual(await b.lines(), ['post 1']);
    assert.equal(b.clock.timers.size, 0, 'no timer left running');
  });
}

test('a 429 backs off and sends again', async () => {
  const b = http();
  b.respond = () => 429;
  b.batch();
  await b.clock.advance(250);
  b.respond = () => 200;
  await b.clock.advance(500);
  assert.deepEqual(await b.lines(), ['post 1', 'post 1']);
  assert.equal(b.fatal, 0);
});

test('every envelope names the release and environment when given', async () => {
  const b = http({ meta: { release: '2024.11.3', environment: 'production' } });
  b.batch();
  await b.clock.advance(250);
  const [first] = await posts(b);
  assert.equal(first.msg.release, '2024.11.3');
  assert.equal(first.msg.environment, 'production');
});
