// Redaction of call details: secret query values, and the request bodies a project opted in to,
// scrubbed by key (JSON), by name (forms) and by look (card numbers, bearer tokens, JWTs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSecretName, maskQuery, scrubBody, scrubText } from '../src/privacy.js';
import { MASK } from '../src/wire.js';

test('secret names: by their parts, short parts only as whole words', () => {
  for (const n of ['token', 'access_token', 'apiKey', 'api-key', 'key', 'X-Amz-Signature', 'sig', 'password', 'passwd',
    'client_secret', 'sessionId', 'auth', 'code', 'cardNumber', 'cvv', 'otp']) assert.ok(isSecretName(n), n);
  for (const n of ['q', 'page', 'monkey', 'design', 'keyboard', 'email', 'sort']) assert.ok(!isSecretName(n), n);
});

test('a URL keeps its shape; only secret query values are masked', () => {
  assert.equal(maskQuery('https://a.test/x?token=abc&q=shoes&apiKey=zz#top'), `https://a.test/x?token=${MASK}&q=shoes&apiKey=${MASK}#top`);
  assert.equal(maskQuery('https://a.test/x?q=a%20b&flag'), 'https://a.test/x?q=a%20b&flag');
  assert.equal(maskQuery('https://a.test/x'), 'https://a.test/x');
  assert.equal(maskQuery('https://a.test/x?'), 'https://a.test/x?');
  // OAuth's implicit flow puts the token in the fragment.
  assert.equal(maskQuery('https://a.test/cb#access_token=abc123&expires_in=3600&state=7'), `https://a.test/cb#access_token=${MASK}&expires_in=3600&state=7`);
  assert.equal(maskQuery('https://a.test/reset?u=1#/step?code=991'), `https://a.test/reset?u=1#/step?code=${MASK}`);
});

test('JSON bodies: secret keys masked at any depth, card numbers by Luhn, other values kept', () => {
  const body = JSON.stringify({ email: 'a@b.test', password: 'hunter2', card: { number: '4111 1111 1111 1111' },
    items: [{ sku: 'A1', note: 'pay with 4111-1111-1111-1111' }], n: 4111111111111111, order: 1234567890123 });
  const out = scrubBody(body);
  const parsed = JSON.parse(out.requestBody);
  assert.equal(parsed.email, 'a@b.test');
  assert.equal(parsed.password, MASK);
  assert.equal(parsed.card, MASK);
  assert.equal(parsed.items[0].note, `pay with ${MASK}`);
  assert.equal(parsed.items[0].sku, 'A1');
  assert.equal(parsed.n, MASK);
  assert.equal(parsed.order, 1234567890123, 'not a card number: fails the Luhn check');
  assert.equal(out.requestBodyScrubbed, true);
  assert.equal(out.requestBodyTruncated, false);
  assert.doesNotMatch(out.requestBody, /hunter2|4111/);
});

test('a body with nothing secret is kept as it was, and scrubbing twice changes nothing', () => {
  const plain = '{ "q": "shoes", "page": 2 }';
  assert.deepEqual(scrubBody(plain), { requestBody: plain, requestBodyTruncated: false, requestBodyScrubbed: false });
  const once = scrubBody('{"password":"x","card":"4111111111111111"}').requestBody;
  assert.deepEqual(scrubBody(once), { requestBody: once, requestBodyTruncated: false, requestBodyScrubbed: false });
});

test('form bodies by field name, text by its look; long bodies cut at 16 KB after scrubbing', () => {
  assert.equal(scrubBody('user=bob&password=hunter2&cc=4111111111111111').requestBody, `user=bob&password=${MASK}&cc=${MASK}`);
  assert.equal(scrubText('Authorization: Bearer abc.def-123456 ok'), `Authorization: Bearer ${MASK} ok`);
  assert.equal(scrubText('t=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig'), `t=${MASK}`);
  const long = '{"password": "hunter2", "blob": "' + 'x'.repeat(20000) + '"}';
  const cut = scrubBody(long);
  assert.equal(cut.requestBody.length, 16 * 1024);
  assert.equal(cut.requestBodyTruncated, true);
  assert.ok(cut.requestBody.startsWith(`{"password":"${MASK}"`), cut.requestBody.slice(0, 40));
  // JSON cut short (no longer parses): its secret pairs still go.
  const text = scrubBody('{"token": "abc", "password":"hunter2", "x": "' + 'y'.repeat(70000));
  assert.ok(text.requestBody.startsWith(`{"token": "${MASK}", "password":"${MASK}"`), text.requestBody.slice(0, 60));
});
