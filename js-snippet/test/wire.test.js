// src/wire.js is the one place for what the snippet shares with the collector.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import * as wire from '../src/wire.js';

const src = new URL('../src/', import.meta.url);
const read = (name) => readFileSync(new URL(name, src), 'utf8');
const code = (text) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"])\/\/.*$/gm, '$1');

test('wire.js is plain one-line constants a regex can read', () => {
  const lines = read('wire.js').split('\n').filter((l) => l.startsWith('export'));
  const parsed = lines.map((l) => l.match(/^export const ([A-Z_]+) = ([^;]+);(\s*\/\/.*)?$/));
  assert.ok(parsed.every(Boolean), lines.filter((_, i) => !parsed[i]).join('\n'));
  assert.deepEqual(parsed.map((m) => m[1]).sort(), Object.keys(wire).sort());
  assert.deepEqual(parsed.map((m) => m[1]), [
    'PROTOCOL_VERSION', 'TAG_NETWORK', 'TAG_CONSOLE', 'TAG_ERROR', 'TAG_IDENTIFY', 'TAG_TRACK', 'TAG_DROPPED', 'TAG_FRUSTRATION', 'TAG_GAP',
    'CLOSE_TOO_LARGE', 'CLOSE_INVALID', 'CLOSE_FORBIDDEN', 'CLOSE_UNSUPPORTED_VERSION', 'CLOSE_RATE_LIMITED',
    'CLOSE_TIMEOUT', 'CLOSE_SERVER_ERROR', 'CLOSE_TRY_AGAIN', 'CLOSE_STORAGE_FULL',
    'MAX_MESSAGE_BYTES', 'MAX_HTTP_BATCH_BYTES', 'MAX_BATCHES_PER_REQUEST', 'MAX_EVENTS_PER_BATCH',
    'MAX_URL_CHARS', 'MAX_UA_CHARS', 'MAX_RELEASE_CHARS', 'MAX_SEQ', 'ID_PATTERN', 'SECRET_PATTERN',
    'MASK', 'SECRET_NAME_PARTS', 'MAX_CAPTURE_PATTERNS', 'MAX_CAPTURE_PATTERN_CHARS', 'HEARTBEAT_PATH',
  ]);
  for (const m of parsed) assert.match(m[2], /^(\d+( \* \d+)*|'[^'\\]*')$/, `${m[1]}: keep literals simple`);
});

test('no other file repeats a wire literal', () => {
  const literals = [
    ...Object.values(wire).filter((v) => typeof v === 'string').map((v) => `'${v}'`),
    ...['1009', '4400', '4403', '4426', '4429', '4408', '1011', '1013', 'A-Za-z0-9_-'],
  ];
  for (const name of readdirSync(src).filter((n) => n.endsWith('.js') && n !== 'wire.js')) {
    const text = code(read(name));
    for (const literal of literals) assert.ok(!text.includes(literal), `${name} repeats ${literal}: import it from wire.js`);
  }
});
