// The hot-path changes (rrweb-hot-paths.mjs) still find their text in the @rrweb/record the snippet
// bundles: an upgrade that moved it would otherwise leave the snippet slower, with only a build warning.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { HOT_PATHS, patchHotPaths } from '../rrweb-hot-paths.mjs';

const recordJs = createRequire(import.meta.url).resolve('@rrweb/record').replace(/record\.c?js$/, 'record.js');

test('every hot-path change applies, once, to the bundled @rrweb/record', () => {
  const original = readFileSync(recordJs, 'utf8');
  const { text, missed } = patchHotPaths(original);
  assert.deepEqual(missed, []);
  for (const { find, replace } of HOT_PATHS) {
    assert.equal(text.split(replace).length, 2, `${find.slice(0, 40)}… replaced once`);
  }
});

test('a change whose text is missing or found twice is reported, and the text left as it was', () => {
  const { find } = HOT_PATHS[1];
  assert.deepEqual(patchHotPaths('nothing here'), { text: 'nothing here', missed: HOT_PATHS.map((p) => p.name) });
  const twice = `${find}\n${find}`;
  const out = patchHotPaths(twice);
  assert.equal(out.text, twice);
  assert.ok(out.missed.includes(HOT_PATHS[1].name));
});
