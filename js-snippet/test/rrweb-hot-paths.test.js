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

test('if any change misses its text (or finds it twice), none is applied and the misses are named', () => {
  assert.deepEqual(patchHotPaths('nothing here'), { text: 'nothing here', missed: HOT_PATHS.map((p) => p.name) });
  const original = readFileSync(recordJs, 'utf8');
  const [first, second] = HOT_PATHS;
  // The first change's text twice: the others would apply, but none may (they depend on one another).
  const twice = original.replace(first.find, first.find + first.find);
  assert.deepEqual(patchHotPaths(twice), { text: twice, missed: [first.name] });
  const without = original.replace(second.find, '');
  assert.deepEqual(patchHotPaths(without), { text: without, missed: [second.name] });
});
