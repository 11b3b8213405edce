// The websocket side of the transport, as the collector sees it: which frames
// arrive, in what order, and when the snippet connects again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { started, settle, until, STREAM, KEY } from './fakes.js';
import { TAG_DROPPED, PROTOCOL_VERSION } from '../src/wire.js';

const ws = (lines) => lines.filter((l) => l.startsWith('ws'));

// The fake time at which each WebSocket was made.
function connectTimes(b) {
  const at = new Map(b.sockets.map((s) => [s, b.clock.now]));
  const push = b.sockets.push.bind(b.sockets);
  b.sockets.push = (s) => { at.set(s, b.clock.now); return push(s); };
  return () => b.sockets.map((s) => at.get(s));
}

test('the first frame is a hello with the page and its ids; batches follow the ready, in order', async () => {
  const b = started();
  assert.equal(b.sockets.length, 1);
  assert.equal(b.sockets[0].url, 'wss://replay.test/ingest/ws');
  b.batch();
  b.sockets[0].open();
  await settle();
  assert.deepEqual(await b.lines(), ['ws0 hello']); // nothing before the ready
  const [hello] = await b.sent();
  assert.deepEqual({ ...hello.msg, ts: 0 }, {
    type: 'hello', v: PROTOCOL_VERSION, key: KEY, session: STREAM.session, secret: STREAM.secret, window: STREAM.window,
    url: 'https://shop.test/cart?step=2', ua: 'FakeBrowser/1.0', ts: 0,
  });

  b.sockets[0].reply({ type: 'ready', acked: 0 });
  await settle();
  b.batch(2);
  await settle();
  assert.deepEqual(await b.lines(), ['ws0 hello', 'ws0 batch 1', 'ws0 batch 2']);
  const frames = (await b.sent()).slice(1).map((e) => e.msg.events.map((ev) => ev.data.payload.n));
  assert.deepEqual(frames, [[1], [2, 3]]);
});

test('batches sent on a socket that closed before their ack go again after the next ready, only those above acked', async () => {
  const b = started();
  await b.connect(0);
  for (let i = 0; i < 4; i++) b.batch();
  await settle();
  b.sockets[0].reply({ type: 'ack', seq: 1, acked: 1 });
  await settle();
  b.sockets[0].drop(1006);
  await b.clock.advance(30000);
  assert.equal(b.sockets.length, 2);
  await b.connect(1, 2); // the server holds 1 and 2 (2's ack was lost with the socket)
  b.batch();
  await settle();
  assert.deepEqual(ws(await b.lines()), [
    'ws0 hello', 'ws0 batch 1', 'ws0 batch 2', 'ws0 batch 3', 'ws0 batch 4',
    'ws1 hello', 'ws1 batch 3', 'ws1 batch 4', 'ws1 batch 5',
  ]);

  // Acked on this socket: never sent again.
  b.sockets[1].reply({ type: 'ack', seq: 4, acked: 4 });
  await settle();
  b.sockets[1].drop(1011);
  await b.clock.advance(30000);
  await b.connect(2, 4);
  assert.deepEqual(ws(await b.lines()).slice(9), ['ws2 hello', 'ws2 batch 5']);
});

test('a new session gets its own hello on the same socket before its batches', async () => {
  const b = started();
  await b.connect(0);
  b.batch();
  await settle();
  const next = { session: 'session-two-0002', secret: 'secret-of-session-two', window: 'window-two-00002' };
  b.buffer.setStream(next);
  b.batch();
  await settle();
  assert.deepEqual(await b.lines(), ['ws0 hello', 'ws0 batch 1', 'ws0 hello']); // waits for the ready
  b.sockets[0].reply({ type: 'ready', acked: 0 });
  await settle();
  const sent = await b.sent();
  assert.deepEqual(sent.map((e) => [e.msg.type, e.msg.session || e.msg.seq, e.msg.secret]), [
    ['hello', STREAM.session, STREAM.secret], ['batch', 1, undefined], ['hello', next.session, next.secret], ['batch', 1, undefined],
  ]);
});

test('reconnects wait longer after each failure, capped, jittered, and start over after a ready', async () => {
  const randoms = [0.5, 0.5, 0.25, 0.5];
  const b = started({ random: () => randoms.shift() ?? 0.5 });
  const at = connectTimes(b);
  b.sockets[0].drop(1006); // delay 0.5 * 500
  await b.clock.advance(250);
  b.sockets[1].drop(1006); // delay 0.5 * 1000
  await b.clock.advance(500);
  await b.connect(2); // a ready: the next wait starts over
  b.sockets[2].drop(1006); // delay 0.25 * 500
  await b.clock.advance(125);
  b.sockets[3].drop(1006); // delay 0.5 * 1000
  await b.clock.advance(499);
  assert.equal(b.sockets.length, 4);
  await b.clock.advance(1);
  assert.deepEqual(at(), [0, 250, 750, 875, 1375]);
  assert.ok(b.sockets.every((s) => s.url.endsWith('/ingest/ws')), 'a ready in between: still websocket');
});

test('an open socket that never says ready is closed after 10 s and counts as a failed connect', async () => {
  const b = started();
  b.sockets[0].open();
  await b.clock.advance(9999);
  assert.equal(b.sockets[0].closedWith, null);
  await b.clock.advance(1);
  assert.notEqual(b.sockets[0].closedWith, null);
  await b.clock.advance(250);
  assert.equal(b.sockets.length, 2);
});

test('after 3 connects that never said ready, batches go by HTTP POST', async () => {
  const b = started();
  b.batch();
  b.batch();
  b.sockets[0].drop(1006);
  await b.clock.advance(250);
  b.sockets[1].open();
  await settle();
  b.sockets[1].drop(1006); // opened, greeted, but no ready
  await b.clock.advance(500);
  assert.equal(b.sockets.length, 3);
  b.sockets[2].drop(1006);
  await b.clock.advance(60000);
  assert.equal(b.sockets.length, 3, 'no fourth socket');
  const sent = await b.sent();
  const posts = sent.filter((e) => e.via === 'post');
  assert.deepEqual(posts.map((e) => e.msg.batches.map((x) => x.seq)), [[1, 2]]);
  assert.equal(posts[0].url, 'https://replay.test/ingest/batch');
  assert.equal(posts[0].at, 750 + 0.5 * 2000); // the third wait, as if it were a fourth socket
  assert.deepEqual({ ...posts[0].msg, batches: null }, {
    v: PROTOCOL_VERSION, key: KEY, session: STREAM.session, secret: STREAM.secret, window: STREAM.window,
    url: 'https://shop.test/cart?step=2', ua: 'FakeBrowser/1.0', batches: null,
  });
  b.batch();
  await settle();
  assert.deepEqual((await b.lines()).filter((l) => l.startsWith('post')), ['post 1,2', 'post 3']);
});

test('a refusal says why: the error message before the close goes to onFatal, once', async () => {
  const b = started();
  await b.connect(0);
  const refusal = { type: 'error', code: 'origin_not_allowed', message: 'origin http://localhost:8080 may not send to this project' };
  b.sockets[0].reply(refusal);
  b.sockets[0].drop(4403);
  await settle();
  assert.equal(b.fatal, 1);
  assert.deepEqual(b.why, refusal);

  const quiet = started();
  await quiet.connect(0);
  quiet.sockets[0].drop(4403); // a close without a message first
  await settle();
  assert.deepEqual(quiet.why, {});
});

test('the hello names the release and environment when given, cut to their limit', async () => {
  const b = started({ meta: { release: 'v' + '9'.repeat(200), environment: 'staging' } });
  b.sockets[0].open();
  await settle();
  const [hello] = await b.sent();
  assert.equal(hello.msg.release, 'v' + '9'.repeat(99));
  assert.equal(hello.msg.environment, 'staging');

  const none = started({ meta: { release: '', environment: undefined } });
  none.sockets[0].open();
  await settle();
  const [bare] = await none.sent();
  assert.equal('release' in bare.msg || 'environment' in bare.msg, false);
});

for (const code of [4400, 4403, 4426]) {
  test(`close code ${code} stops everything: no reconnect, no POST, no beacon`, async () => {
    const b = started();
    await b.connect(0);
    b.batch();
    await settle();
    b.sockets[0].drop(code);
    await settle();
    assert.equal(b.fatal, 1);
    const before = (await b.lines()).length;
    b.batch();
    b.transport.kick(true);
    await b.clock.advance(10 * 60 * 1000);
    b.page('pagehide');
    b.transport.stop();
    await settle();
    assert.equal(b.sockets.length, 1);
    assert.equal((await b.lines()).length, before);
    assert.equal(b.clock.timers.size, 0, 'no timer left running');
  });
}

test('close code 4429 (rate limited) waits long before connecting again', async () => {
  const b = started();
  const at = connectTimes(b);
  await b.connect(0);
  b.sockets[0].drop(4429);
  await b.clock.advance(14999);
  assert.equal(b.sockets.length, 1);
  await b.clock.advance(1);
  assert.deepEqual(at(), [0, 15000]); // 0.5 * the 30 s cap, not 0.5 * 500 ms
});

test('close code 4408 (idle) connects again only when there is something to send, and at once', async () => {
  const b = started();
  const at = connectTimes(b);
  await b.connect(0);
  b.batch();
  await settle();
  b.sockets[0].reply({ type: 'ack', seq: 1, acked: 1 });
  await settle();
  b.sockets[0].drop(4408);
  await b.clock.advance(10 * 60 * 1000); // ticks with nothing to send
  assert.equal(b.sockets.length, 1, 'no reconnect while there is nothing to send');
  assert.equal(b.fatal, 0);
  b.batch(); // a kick with a batch to send
  assert.equal(b.sockets.length, 2);
  await b.connect(1, 1);
  assert.deepEqual(ws(await b.lines()), ['ws0 hello', 'ws0 batch 1', 'ws1 hello', 'ws1 batch 2']);

  // Again, now woken by the tick that cuts the open batch (events added between ticks).
  b.sockets[1].reply({ type: 'ack', seq: 2, acked: 2 });
  await settle();
  b.sockets[1].drop(4408);
  await b.clock.advance(5000);
  b.buffer.add({ type: 5, timestamp: b.clock.now, data: { tag: 'test', payload: { n: 99 } } });
  b.transport.kick();
  assert.equal(b.sockets.length, 2, 'an event in the open batch waits for the tick');
  await b.clock.advance(2000);
  assert.equal(b.sockets.length, 3);
  assert.deepEqual(at(), [0, 10 * 60 * 1000, 10 * 60 * 1000 + 6000], 'no backoff: each connect on the kick or tick itself');
  await b.connect(2, 2);
  assert.deepEqual(ws(await b.lines()).slice(4), ['ws2 hello', 'ws2 batch 3']);
});

test('close code 4408 with unacked batches connects again at the next tick', async () => {
  const b = started();
  await b.connect(0);
  b.batch();
  await settle();
  b.sockets[0].drop(4408); // batch 1 was never acked
  await b.clock.advance(1999);
  assert.equal(b.sockets.length, 1);
  await b.clock.advance(1);
  assert.equal(b.sockets.length, 2);
  await b.connect(1, 0);
  assert.deepEqual(ws(await b.lines()), ['ws0 hello', 'ws0 batch 1', 'ws1 hello', 'ws1 batch 1']);
});

test('close code 4408 before any ready (hello timeout) is a failed connect, but waits for something to send', async () => {
  const b = started();
  b.sockets[0].drop(1006);
  await b.clock.advance(250);
  b.sockets[1].drop(1006);
  await b.clock.advance(500);
  b.sockets[2].open();
  await settle();
  b.sockets[2].drop(4408); // the third connect that never said ready: HTTP from now on
  await b.clock.advance(500);
  assert.equal(b.sockets.length, 3);
  assert.deepEqual(await b.lines(), ['ws2 hello'], 'nothing to send, nothing sent');
  b.batch();
  await b.clock.advance(0);
  assert.deepEqual(await b.lines(), ['ws2 hello', 'post 1'], 'posted at once, no backoff');
  await b.clock.advance(60000);
  assert.equal(b.sockets.length, 3);
});

for (const code of [1011, 1006]) {
  test(`close code ${code} after a ready reconnects with backoff, and never switches to HTTP`, async () => {
    const b = started();
    const at = connectTimes(b);
    for (let i = 0; i < 5; i++) {
      await b.connect(i);
      b.batch();
      await settle();
      b.sockets[i].drop(code);
      await b.clock.advance(249);
      assert.equal(b.sockets.length, i + 1, 'waits its backoff');
      await b.clock.advance(1);
      assert.equal(b.sockets.length, i + 2);
    }
    assert.deepEqual(at(), [0, 250, 500, 750, 1000, 1250]);
    // The last socket said ready: two failed connects after it are not yet three.
    b.sockets[5].drop(1006);
    await b.clock.advance(30000);
    b.sockets[6].drop(1006);
    await b.clock.advance(30000);
    assert.equal(b.sockets.length, 8);
    assert.deepEqual((await b.lines()).filter((l) => !l.startsWith('ws')), [], 'no POST');
  });
}

test('close code 1013 (over a socket cap) waits long before connecting again, ready or not', async () => {
  const b = started();
  const at = connectTimes(b);
  b.sockets[0].drop(1013); // refused before any hello
  await b.clock.advance(14999);
  assert.equal(b.sockets.length, 1);
  await b.clock.advance(1);
  await b.connect(1);
  b.sockets[1].drop(1013); // refused after the ready (the project's cap)
  await b.clock.advance(15000);
  assert.deepEqual(at(), [0, 15000, 30000]); // 0.5 * the 30 s cap each time
  assert.equal(b.fatal, 0);
});

test('1011 and 1013 on sockets that never said ready count toward the switch to HTTP', async () => {
  const b = started();
  b.batch();
  b.sockets[0].drop(1013);
  await b.clock.advance(30000);
  b.sockets[1].open();
  await settle();
  b.sockets[1].drop(1011);
  await b.clock.advance(30000);
  b.sockets[2].drop(1011);
  await b.clock.advance(30000);
  assert.equal(b.sockets.length, 3);
  assert.deepEqual((await b.lines()).slice(-1), ['post 1']);
});

test('close code 1009 (too large) resends an oversized batch as a replay.dropped marker', async () => {
  const b = started();
  await b.connect(0);
  b.batch(1, 1100 * 1000); // gzips to a small frame; the server refuses it inflated
  b.batch();
  await until(async () => (await b.lines()).length === 3);
  b.sockets[0].drop(1009);
  await b.clock.advance(250);
  await b.connect(1, 0);
  await until(async () => (await b.lines()).length === 6);
  const sent = (await b.sent()).filter((e) => e.socket === 1 && e.msg.type === 'batch');
  assert.deepEqual(sent.map((e) => e.msg.seq), [1, 2]);
  assert.deepEqual(sent[0].msg.events.map((e) => e.data.tag), [TAG_DROPPED]);
  assert.equal(sent[0].msg.events[0].data.payload.events, 1);
  assert.ok(sent[0].msg.events[0].data.payload.bytes > 1100 * 1000);
  assert.deepEqual(sent[1].msg.events.map((e) => e.data.payload.n), [2]);
});

test('a frame over the collector limit even gzipped goes as a replay.dropped marker', async () => {
  const b = started();
  await b.connect(0);
  b.buffer.add({ type: 5, timestamp: 0, data: { tag: 'test', payload: { blob: randomBytes(1100 * 1000).toString('base64') } } });
  b.batch();
  const sent = await until(async () => {
    const s = (await b.sent()).filter((e) => e.msg.type === 'batch');
    return s.length === 2 && s;
  });
  assert.ok(sent.every((e) => e.bytes < 1024 * 1024));
  assert.deepEqual(sent.map((e) => e.msg.seq), [1, 2]);
  assert.deepEqual(sent[0].msg.events.map((e) => e.data.tag), [TAG_DROPPED]);
});

test('frames over 1 KB go gzipped (binary), smaller ones as text', async () => {
  const b = started();
  await b.connect(0);
  b.batch(1, 10);
  b.batch(1, 3000);
  await until(async () => (await b.lines()).length === 3);
  const sent = await b.sent();
  assert.equal(typeof sent[1].data, 'string');
  assert.ok(sent[2].data instanceof ArrayBuffer);
  assert.ok(sent[2].bytes < 1000, 'gzipped');
  assert.equal(sent[2].msg.events[0].data.payload.text.length, 3000);
});

test('on a socket that negotiated permessage-deflate, frames go as text (the browser compresses them); one over the limit as gzip', async () => {
  const b = started();
  b.sockets[0].extensions = 'permessage-deflate; client_max_window_bits=15';
  await b.connect(0);
  b.buffer.add({ type: 5, timestamp: 0, data: { tag: 'test', payload: { text: 'y'.repeat(1100 * 1000) } } });
  b.batch(1, 3000);
  await until(async () => (await b.lines()).length === 3);
  const sent = await b.sent();
  assert.ok(sent[1].data instanceof ArrayBuffer, 'over the frame limit as text: gzip');
  assert.equal(sent[1].msg.events[0].data.payload.text.length, 1100 * 1000);
  assert.equal(typeof sent[2].data, 'string');
  assert.equal(sent[2].msg.events[0].data.payload.text.length, 3000);
});

test('the send chain never reorders frames: a small frame waits for the gzip of the one before', async () => {
  const b = started();
  await b.connect(0);
  for (let i = 0; i < 5; i++) {
    b.batch(1, 200 * 1000);
    b.batch(1, 10);
  }
  await until(async () => (await b.lines()).length === 11);
  assert.deepEqual((await b.sent()).slice(1).map((e) => e.msg.seq), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
});

test('a page back from the back/forward cache connects again', async () => {
  const b = started();
  await b.connect(0);
  b.page('pagehide');
  await settle();
  assert.equal(b.sockets[0].closedWith, 1000);
  await b.clock.advance(60000);
  assert.equal(b.sockets.length, 1, 'no reconnect while hidden in the cache');
  b.page('pageshow');
  assert.equal(b.sockets.length, 2);
  await b.connect(1);
  b.batch();
  await settle();
  assert.deepEqual(ws(await b.lines()).slice(-2), ['ws1 hello', 'ws1 batch 1']);
});

test('the session secret rides in every hello, POST and beacon envelope, and nowhere else', async () => {
  const b = started();
  await b.connect(0);
  b.batch();
  await settle();
  b.page('hidden'); // a beacon
  await settle();
  for (let i = 0; i < 4; i++) {
    b.sockets[i].drop(1006); // then three that never say ready: HTTP from now on
    await b.clock.advance(30000);
  }
  b.batch();
  await b.clock.advance(30000);
  b.beaconOk = false; // the keepalive fetch instead
  b.batch();
  b.page('pagehide');
  await settle();
  const sent = await b.sent();
  assert.deepEqual([...new Set(sent.map((e) => (e.via === 'ws' ? 'ws ' + e.msg.type : e.via)))].sort(),
    ['beacon', 'fetch-beacon', 'post', 'ws batch', 'ws hello']);
  for (const { via, url, msg } of sent) {
    const carries = via !== 'ws' || msg.type === 'hello';
    assert.equal(msg.secret, carries ? STREAM.secret : undefined, `${via} ${msg.type || ''}`);
    const { secret, ...rest } = msg;
    assert.ok(!JSON.stringify(rest).includes(STREAM.secret) && !(url || '').includes(STREAM.secret));
  }
  assert.ok(b.sockets.every((s) => !s.url.includes(STREAM.secret)));
});
