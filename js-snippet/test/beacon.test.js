// What leaves by beacon when the page is hidden or goes away.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { started, settle, until, STREAM } from './fakes.js';

const MAX_BEACON_BYTES = 56 * 1024;

// A batch cut but not yet handed to the transport (as between two ticks).
function quietBatch(b, pad) {
  b.buffer.add({ type: 5, timestamp: 0, data: { tag: 'test', payload: { text: 'q'.repeat(pad) } } });
  b.buffer.flush();
}

test('on pagehide every unacked batch leaves by beacon, newest first, each beacon under 56 KB; then the socket closes', async () => {
  const b = started();
  await b.connect(0);
  b.batch(1, 20 * 1000);
  b.batch(1, 20 * 1000); // 1 and 2 on the socket, not acked
  await until(async () => (await b.lines()).length === 3);
  quietBatch(b, 20 * 1000); // 3 and 4 never sent
  quietBatch(b, 20 * 1000);
  b.buffer.add({ type: 5, timestamp: 0, data: { tag: 'test', payload: { text: 'last words' } } }); // cut into 5 on the way out
  b.page('pagehide');
  await settle();
  const beacons = (await b.sent()).filter((e) => e.via === 'beacon');
  // Never sent (5 holds only the last small event) first, then those on the socket.
  assert.deepEqual(beacons.map((e) => e.msg.batches.map((x) => x.seq)), [[5, 4, 3], [2, 1]]);
  assert.ok(beacons.every((e) => e.bytes < MAX_BEACON_BYTES), beacons.map((e) => e.bytes).join(', '));
  assert.ok(beacons.every((e) => e.url === 'https://replay.test/ingest/batch' && e.data.type === 'text/plain'));
  assert.ok(beacons.every((e) => e.msg.session === STREAM.session && e.msg.secret === STREAM.secret), 'each beacon carries the secret');
  assert.equal(beacons[0].msg.batches[0].events[0].data.payload.text, 'last words');
  assert.equal(b.sockets[0].closedWith, 1000);
});

test('a batch too large for any beacon is skipped, never in the way of the others', async () => {
  const b = started();
  b.sockets[0].open(); // greeted, never ready: nothing sent yet
  await settle();
  quietBatch(b, 10);
  quietBatch(b, 100 * 1000);
  quietBatch(b, 10);
  b.page('pagehide');
  await settle();
  assert.deepEqual(await b.lines(), ['ws0 hello', 'beacon 3', 'beacon 1']);
});

test('hidden, then back: beaconed batches still go by socket; pagehide then beacons only what is new', async () => {
  const b = started();
  await b.connect(0);
  quietBatch(b, 10);
  b.page('hidden');
  await settle();
  assert.equal(b.sockets[0].closedWith, null, 'hidden only: the socket stays');
  await b.clock.advance(2000); // the next tick sends batch 1 on the socket
  b.batch();
  await settle();
  b.page('pagehide');
  await settle();
  assert.deepEqual(await b.lines(), ['ws0 hello', 'beacon 1', 'ws0 batch 1', 'ws0 batch 2', 'beacon 2']);
});

test('a refused beacon is sent once by keepalive fetch, and the rest is not tried', async () => {
  const b = started();
  b.beaconOk = false;
  for (let i = 0; i < 3; i++) quietBatch(b, 20 * 1000);
  b.page('pagehide');
  await settle();
  const sent = await b.sent();
  assert.deepEqual(sent.map((e) => [e.via, e.msg.batches.map((x) => x.seq)]), [['fetch-beacon', [3, 2]]]);
  assert.equal(typeof sent[0].data, 'string', 'plain JSON, no gzip');
});

test('stop() sends what is left by beacon and nothing afterwards', async () => {
  const b = started();
  await b.connect(0);
  quietBatch(b, 10);
  b.buffer.add({ type: 5, timestamp: 0, data: { tag: 'test', payload: {} } });
  b.transport.stop();
  await settle();
  b.batch();
  b.transport.kick(true);
  b.page('pagehide');
  await b.clock.advance(60000);
  assert.deepEqual(await b.lines(), ['ws0 hello', 'beacon 2,1']);
  assert.equal(b.sockets.length, 1);
  assert.equal(b.sockets[0].closedWith, 1000);
  assert.equal(b.clock.timers.size, 0, 'no timer left running');
});
