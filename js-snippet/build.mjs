// Builds replay/static/: snippet.js (our code + @rrweb/record, one minified
// IIFE) and a copy of rrweb-player's browser bundle and CSS for the viewer.
import { build } from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAX_SNIPPET_GZIP_BYTES = 30 * 1024;
const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'replay', 'static');
const player = join(here, 'node_modules', 'rrweb-player', 'dist');

// @rrweb/record inlines the source of a canvas worker (about 0.8 KB gzipped) that
// only runs with recordCanvas and a canvas sampling rate; the snippet records no
// canvas (src/recorder.js), so the build leaves that string empty.
const CANVAS_WORKER_SOURCE = /^const jsContent = '.*';$/m;
const dropCanvasWorker = {
  name: 'drop-canvas-worker',
  setup(b) {
    b.onLoad({ filter: /@rrweb[\\/]record[\\/]dist[\\/]record\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (!CANVAS_WORKER_SOURCE.test(text)) console.warn('build: canvas worker source not found in @rrweb/record; left as is');
      return { contents: text.replace(CANVAS_WORKER_SOURCE, "const jsContent = '';"), loader: 'js' };
    });
  },
};

await build({
  entryPoints: [join(here, 'src', 'index.js')],
  outfile: join(out, 'snippet.js'),
  bundle: true,
  format: 'iife',
  minify: true,
  // es2019: optional catch bindings; everything the snippet needs is newer anyway.
  target: 'es2019',
  legalComments: 'none',
  logLevel: 'warning',
  plugins: [dropCanvasWorker],
});

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

const snippet = readFileSync(join(out, 'snippet.js'));
const gz = gzipSync(snippet, { level: 9 }).length;
const kb = (n) => (n / 1024).toFixed(1) + ' KB';
console.log(`snippet.js: ${kb(snippet.length)} raw, ${kb(gz)} gzipped (${gz} bytes, limit ${kb(MAX_SNIPPET_GZIP_BYTES)})`);
if (gz > MAX_SNIPPET_GZIP_BYTES) {
  console.error(`snippet.js is over the ${kb(MAX_SNIPPET_GZIP_BYTES)} gzip budget`);
  process.exit(1);
}
