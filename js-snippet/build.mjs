// Builds replay/static/: snippet.js (our code + @rrweb/record, one minified
// IIFE), loader.js (the few lines a site puts first in <head>, also pasted
// inline: README.md holds a copy) and a copy of rrweb-player's browser bundle
// and CSS for the viewer.
import { build } from 'esbuild';
import { minify } from 'terser';
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { patchHotPaths } from './rrweb-hot-paths.mjs';

const MAX_SNIPPET_GZIP_BYTES = 30 * 1024;
// Pasted into every page's <head>: every page load carries it (as it is, where the
// page is not compressed). It holds the snippet's own wrappers of fetch, XHR and
// console and its session code, so that both record the same way.
const MAX_LOADER_BYTES = 5 * 1024;
const MAX_LOADER_GZIP_BYTES = 2.5 * 1024;
const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'replay', 'static');
const player = join(here, 'node_modules', 'rrweb-player', 'dist');

// @rrweb/record, trimmed to what the snippet uses. Each step checks that the
// text it changes is as expected, and otherwise leaves it as it is (with a warning).
const RECORD_JS = join(here, 'node_modules', '@rrweb', 'record', 'dist', 'record.js');
// The snippet records no canvas (src/recorder.js: recordCanvas: false). With that
// option rrweb's CanvasManager only ever sets flags of its own, and its observers
// and worker never run: the build keeps the class's interface and drops the rest
// (about 2 KB gzipped), and leaves the worker's inlined source empty (0.8 KB).
const CANVAS_WORKER_SOURCE = /^const jsContent = '.*';$/m;
const CANVAS_MANAGER = /^class CanvasManager \{\n[\s\S]*?\n\}\n/m;
const CANVAS_MANAGER_CALLS = ['freeze', 'unfreeze', 'lock', 'unlock', 'reset'];
const CANVAS_MANAGER_STUB = `class CanvasManager { ${CANVAS_MANAGER_CALLS.map((m) => m + '() {}').join(' ')} }\n`;
// Our code takes EventType and IncrementalSource from @rrweb/types; @rrweb/record
// carries its own copy of both (about 0.8 KB minified), so ours is that copy: the
// same enums, once.
const RRWEB_TYPES = ['EventType', 'IncrementalSource'];
// Code only reached with record() options the snippet never sets (src/recorder.js and
// the masking options of src/privacy.js name every option it passes), stubbed: `unset`
// names options that must stay unset, `off` options that must be passed as false.
// `gone` names methods the stub removes, which nothing else may call (this.method).
const UNUSED_PARTS = [
  { // Events relayed by cross-origin iframes (recordCrossOriginIframes): only its message listener calls these.
    unset: ['recordCrossOriginIframes'],
    find: /^  handleMessage\(message\) \{\n[\s\S]*?\n  patchRootIdOnNode\(node, rootId\) \{\n[\s\S]*?\n  \}\n/m,
    stub: '  handleMessage() {}\n',
    gone: ['transformCrossOriginEvent', 'replace', 'replaceIds', 'replaceStyleIds', 'replaceIdOnNode', 'patchRootIdOnNode'],
  },
  { // The FontFace observer (collectFonts).
    off: ['collectFonts'],
    find: /^function initFontObserver\(\{ fontCb, doc \}\) \{\n[\s\S]*?\n\}\n/m,
    stub: 'function initFontObserver() { return () => {}; }\n',
  },
  { // Callbacks of the hooks option: without it each observer callback only gets a wrapper that calls it.
    unset: ['hooks'],
    find: /^function mergeHooks\(o, hooks\) \{\n[\s\S]*?\n\}\n/m,
    stub: 'function mergeHooks() {}\n',
  },
  { // Nodes left out by slimDOMOptions: with none, no node is.
    unset: ['slimDOMOptions'],
    find: /^function slimDOMExcluded\(sn, slimDOMOptions\) \{\n[\s\S]*?\n\}\n/m,
    stub: 'function slimDOMExcluded() { return false; }\n',
  },
];

function trimRecord(text) {
  const warn = (what) => console.warn(`build: ${what} in @rrweb/record; left as is`);
  if (CANVAS_WORKER_SOURCE.test(text)) text = text.replace(CANVAS_WORKER_SOURCE, "const jsContent = '';");
  else warn('canvas worker source not found');
  const calls = [...text.matchAll(/canvasManager\.(\w+)/g)].map((m) => m[1]);
  const recordsNoCanvas = /recordCanvas: false,/.test(readFileSync(join(here, 'src', 'recorder.js'), 'utf8'));
  if (CANVAS_MANAGER.test(text) && recordsNoCanvas && calls.every((m) => CANVAS_MANAGER_CALLS.includes(m))) {
    text = text.replace(CANVAS_MANAGER, CANVAS_MANAGER_STUB);
  } else warn('CanvasManager not as expected (or src/recorder.js records canvas)');
  const options = ['recorder.js', 'privacy.js'].map((f) => readFileSync(join(here, 'src', f), 'utf8')).join('\n');
  for (const { unset = [], off = [], find, stub, gone = [] } of UNUSED_PARTS) {
    const what = stub.trim().replace(/\(.*/, '');
    const ok = unset.every((o) => !new RegExp(`\\b${o}\\b`).test(options)) && off.every((o) => options.includes(`${o}: false,`));
    const trimmed = find.test(text) && text.replace(find, stub);
    if (ok && trimmed && gone.every((m) => !trimmed.includes(`this.${m}(`))) text = trimmed;
    else warn(`${what} not as expected (or src/ sets ${[...unset, ...off].join(', ')})`);
  }
  if (RRWEB_TYPES.every((name) => new RegExp(`^var ${name} = `, 'm').test(text))) text += `\nexport { ${RRWEB_TYPES.join(', ')} };\n`;
  else warn(`${RRWEB_TYPES.join(' and ')} not defined`);
  // Its mutation work, made lighter for a buffer the snippet holds frozen (rrweb-hot-paths.mjs).
  const patched = patchHotPaths(text);
  for (const name of patched.missed) warn(`the text of hot-path change ${name} not found once`);
  return patched.text;
}

const trimRrweb = {
  name: 'trim-rrweb',
  setup(b) {
    const text = trimRecord(readFileSync(RECORD_JS, 'utf8'));
    b.onLoad({ filter: /@rrweb[\\/]record[\\/]dist[\\/]record\.js$/ }, () => ({ contents: text, loader: 'js' }));
    if (!text.includes(`export { ${RRWEB_TYPES.join(', ')} };`)) return;
    b.onResolve({ filter: /^@rrweb\/types$/ }, () => ({ path: 'types', namespace: 'rrweb-types' }));
    b.onLoad({ filter: /.*/, namespace: 'rrweb-types' }, () => ({
      contents: `export { ${RRWEB_TYPES.join(', ')} } from "@rrweb/record";`,
      resolveDir: here,
      loader: 'js',
    }));
  },
};

const browserBundle = {
  bundle: true,
  format: 'iife',
  minify: true,
  // es2019: optional catch bindings; everything the snippet needs is newer anyway.
  target: 'es2019',
  legalComments: 'none',
  logLevel: 'warning',
};
// esbuild bundles and minifies; terser's compressor (several passes) then shrinks the result further (about 1.7 KB gzipped).
const snippet = await build({ ...browserBundle, entryPoints: [join(here, 'src', 'index.js')], write: false, plugins: [trimRrweb] });
const squeezed = await minify(snippet.outputFiles[0].text, { ecma: 2019, compress: { passes: 3 }, mangle: true, format: { comments: false } });
writeFileSync(join(out, 'snippet.js'), squeezed.code);
// For profiles (bench/page_profile.py): the same bundle, not minified, where the caller says.
if (process.env.SNIPPET_READABLE_OUT) {
  const readable = await build({ ...browserBundle, minify: false, entryPoints: [join(here, 'src', 'index.js')], write: false, plugins: [trimRrweb] });
  writeFileSync(process.env.SNIPPET_READABLE_OUT, readable.outputFiles[0].text);
}
// One line, as pasted inline: no template literals (minified, they hold raw newlines), no trailing newline.
const loader = await build({ ...browserBundle, entryPoints: [join(here, 'src', 'loader.js')], write: false, supported: { 'template-literal': false } });
const loaderText = loader.outputFiles[0].text.trim();
if (/\n|<\/script/i.test(loaderText)) throw new Error('loader.js must be one line without "</script" to paste inline');
writeFileSync(join(out, 'loader.js'), loaderText);

// The player's UMD bundle defines the global `rrwebPlayer`; its source map is
// not shipped, so drop the comment that points at it (only the file's last line:
// the same text occurs inside the bundle's code).
const noMap = (text) => text.replace(/\n\/[/*]# sourceMappingURL=[^\n]*\s*$/, '\n');
// In 2.x that global is the module object {Player, default}; the shim also makes
// it the constructor itself, so README-style `new rrwebPlayer({target, props})`
// works as well as `new rrwebPlayer.Player(...)`.
const PLAYER_GLOBAL_SHIM =
  ';(function(m){if(m&&typeof m!=="function"&&m.default){var P=m.default;P.Player=m.Player;P.default=P;window.rrwebPlayer=P}})(window.rrwebPlayer);\n';
writeFileSync(join(out, 'rrweb-player.js'), noMap(readFileSync(join(player, 'rrweb-player.umd.min.cjs'), 'utf8')) + PLAYER_GLOBAL_SHIM);
writeFileSync(join(out, 'rrweb-player.css'), noMap(readFileSync(join(player, 'style.css'), 'utf8')));

// The viewer: ES modules in replay/viewer/js/, one bundle per page. viewer.js is the replay
// page's (session.html), export-viewer.js is inlined into exported files (export.html). Both run
// after rrweb-player.js, whose global only vendor-player.js reads. Left readable: the viewer is
// private, and no size budget applies. The sources live outside this package, so their imports
// (@rrweb/types) resolve from this package's node_modules.
const viewer = join(here, '..', 'replay', 'viewer', 'js');
await build({
  entryPoints: { viewer: join(viewer, 'replay-page.js'), 'export-viewer': join(viewer, 'export-page.js') },
  outdir: out,
  bundle: true,
  format: 'iife',
  target: 'es2019',
  nodePaths: [join(here, 'node_modules')],
  legalComments: 'none',
  logLevel: 'warning',
});

const kb = (n) => (n / 1024).toFixed(1) + ' KB';
let over = false;
for (const [name, maxRaw, maxGzip] of [['snippet.js', Infinity, MAX_SNIPPET_GZIP_BYTES], ['loader.js', MAX_LOADER_BYTES, MAX_LOADER_GZIP_BYTES]]) {
  const text = readFileSync(join(out, name));
  const gz = gzipSync(text, { level: 9 }).length;
  const limits = [maxRaw < Infinity && `${maxRaw} raw`, `${maxGzip} gzipped`].filter(Boolean).join(', ');
  console.log(`${name}: ${kb(text.length)} raw, ${kb(gz)} gzipped (${text.length} and ${gz} bytes; limits ${limits})`);
  if (text.length > maxRaw || gz > maxGzip) {
    console.error(`${name} is over its size budget`);
    over = true;
  }
}
if (over) process.exit(1);
