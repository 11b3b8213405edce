// Session and window ids across page loads (a Map stands in for sessionStorage).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSession, SESSION_IDLE_MS } from '../src/session.js';
import { ID_PATTERN, SECRET_PATTERN } from '../src/wire.js';

const ID = new RegExp(ID_PATTERN);
const SECRET = new RegExp(SECRET_PATTERN);
const KEY = '__replay_session';

function storage(initial) {
  const map = new Map(initial === undefined ? [] : [[KEY, initial]]);
  return {
    getItem: (k) => (map.has(k) ? map.get(k) : null),
    setItem: (k, v) => { map.set(k, String(v)); },
    removeItem: (k) => { map.delete(k); },
    stored: () => JSON.parse(map.get(KEY)),
  };
}

test('a reload keeps the session and gets a new window id', () => {
  const store = storage();
  const first = createSession(1000, store);
  assert.match(first.id, ID);
  assert.match(first.window, ID);
  assert.equal(store.stored().id, first.id);
  const second = createSession(1000 + SESSION_IDLE_MS - 1, store);
  const third = createSession(1000 + SESSION_IDLE_MS, store);
  assert.equal(second.id, first.id);
  assert.equal(third.id, first.id);
  assert.equal(new Set([first.window, second.window, third.window]).size, 3);
  assert.match(third.window, ID);
});

test('the session secret is made with the id, stored with it, kept on reload and new after rotation', () => {
  const store = storage();
  const first = createSession(1000, store);
  assert.match(first.secret, SECRET);
  assert.notEqual(first.secret, first.id);
  assert.equal(store.stored().secret, first.secret);
  const reload = createSession(2000, store);
  assert.equal(reload.id, first.id);
  assert.equal(reload.secret, first.secret);

  assert.equal(reload.touch(3000 + SESSION_IDLE_MS, true), true);
  assert.notEqual(reload.secret, first.secret);
  assert.match(reload.secret, SECRET);
  assert.equal(store.stored().secret, reload.secret);
  assert.equal(createSession(4000 + SESSION_IDLE_MS, store).secret, reload.secret, 'the next page load keeps the new one');
  assert.notEqual(createSession(5000 + 3 * SESSION_IDLE_MS, store).secret, reload.secret, 'a new session after the idle time');
});

test('after SESSION_IDLE_MS without user activity the next activity starts a new session', () => {
  const store = storage();
  const session = createSession(0, store);
  const { id, window } = session;
  assert.equal(session.touch(1000, true), false);
  // Events that are not the user (a timer's console line, a poll) do not keep it alive...
  assert.equal(session.touch(1000 + SESSION_IDLE_MS, false), false);
  assert.equal(session.id, id);
  // ...and the user coming back after the idle time gets a new session, window and all.
  assert.equal(session.touch(1000 + SESSION_IDLE_MS + 1, true), true);
  assert.notEqual(session.id, id);
  assert.notEqual(session.window, window);
  assert.match(session.id, ID);
  assert.equal(store.stored().id, session.id);
  assert.equal(createSession(2000 + SESSION_IDLE_MS, store).id, session.id, 'the next page load continues it');
});

test('activity keeps the session going past the idle time since it started', () => {
  const store = storage();
  const session = createSession(0, store);
  const { id } = session;
  for (let t = 0; t <= 3 * SESSION_IDLE_MS; t += SESSION_IDLE_MS / 2) assert.equal(session.touch(t, true), false);
  assert.equal(session.id, id);
  assert.equal(createSession(3 * SESSION_IDLE_MS + SESSION_IDLE_MS - 1, store).id, id, 'stored activity counts on reload');
});

test('a page load after the idle time starts a new session', () => {
  const store = storage();
  const { id } = createSession(0, store);
  const later = createSession(SESSION_IDLE_MS + 1, store);
  assert.notEqual(later.id, id);
  assert.equal(store.stored().id, later.id);
});

for (const [what, stored] of [
  ['too short', JSON.stringify({ id: 'abc', started: 1, lastActive: 0 })],
  ['bad characters', JSON.stringify({ id: 'has spaces/and.dots', started: 1, lastActive: 0 })],
  ['a trailing newline', JSON.stringify({ id: 'abcdefghijkl\n', started: 1, lastActive: 0 })],
  ['a number', JSON.stringify({ id: 123456789012, started: 1, lastActive: 0 })],
  ['not JSON', '{"id": "abcdefghijkl"'],
  ['no secret (stored before secrets)', JSON.stringify({ id: 'abcdefghijkl', started: 1, lastActive: 0 })],
  ['a short secret', JSON.stringify({ id: 'abcdefghijkl', secret: 'fifteen-chars-x', started: 1, lastActive: 0 })],
  ['a secret with bad characters', JSON.stringify({ id: 'abcdefghijkl', secret: 'sixteen chars/ok.', started: 1, lastActive: 0 })],
  ['a secret that is a number', JSON.stringify({ id: 'abcdefghijkl', secret: 1234567890123456, started: 1, lastActive: 0 })],
]) {
  test(`a malformed stored session (${what}) is replaced`, () => {
    const store = storage(stored);
    const session = createSession(10, store);
    assert.match(String(session.id), ID);
    assert.equal(typeof session.id, 'string');
    assert.notEqual(session.id, 'abcdefghijkl');
    assert.match(session.secret, SECRET);
    assert.deepEqual([store.stored().id, store.stored().secret], [session.id, session.secret]);
  });
}

test('a stored session with a valid id and secret is kept as it is', () => {
  const secret = 'a-valid-secret-of-32-characters_';
  const session = createSession(10, storage(JSON.stringify({ id: 'abcdefghijkl', secret, started: 1, lastActive: 0 })));
  assert.deepEqual([session.id, session.secret], ['abcdefghijkl', secret]);
});

test('without storage (blocked, privacy mode) the session lives in memory', () => {
  const blocked = {
    getItem() { throw new Error('SecurityError'); },
    setItem() { throw new Error('SecurityError'); },
  };
  const session = createSession(0, blocked);
  assert.match(session.id, ID);
  assert.match(session.secret, SECRET);
  assert.equal(session.touch(5, true), false);
  assert.equal(session.touch(10 + SESSION_IDLE_MS, true), true);
});
