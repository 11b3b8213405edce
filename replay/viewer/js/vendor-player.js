// rrweb-player, the one place that reads its global. Its UMD bundle is a script of its own
// (rrweb-player.js, built by js-snippet/build.mjs): session.html loads it and export.html inlines it,
// before the viewer's bundle. The global is read when a player is made, after the page has loaded.
// rrweb's replayer rebuilds the recorded page in a sandboxed iframe: its scripts never run here.

export function createPlayer(target, events, maxWidth) {
  const RrwebPlayer = window.rrwebPlayer;
  if (typeof RrwebPlayer !== "function") throw new Error("rrweb-player.js is not loaded");
  const width = Math.max(320, Math.min(target.clientWidth - 16, maxWidth));
  return new RrwebPlayer({
    target,
    props: { events, width, height: Math.round(width * 0.56), autoPlay: false, showWarning: false, mouseTail: false },
  });
}
