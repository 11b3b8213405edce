// rrweb-player, the one place that reads its global. Its UMD bundle is a script of its own
// (rrweb-player.js, built by js-snippet/build.mjs): session.html loads it and export.html inlines it,
// before the viewer's bundle. The global is read when a player is made, after the page has loaded.
// rrweb's replayer rebuilds the recorded page in a sandboxed iframe: its scripts never run here.

export function createPlayer(target, events, maxWidth) {
  const RrwebPlayer = window.rrwebPlayer;
  if (typeof RrwebPlayer !== "function") throw new Error("rrweb-player.js is not loaded");
  const size = () => {
    const width = Math.max(320, Math.min(target.clientWidth - 16, maxWidth));
    return { width, height: Math.round(width * 0.56) };
  };
  let current = size();
  const player = new RrwebPlayer({
    target,
    props: { events, ...current, autoPlay: false, showWarning: false, mouseTail: false },
  });
  // The room changes (a window resized, a narrower screen): the player and its controls follow it.
  if (typeof ResizeObserver === "function") {
    let frame = 0;
    new ResizeObserver(() => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => {
        const next = size();
        if (Math.abs(next.width - current.width) < 2) return;
        current = next;
        player.$set(next);
        player.triggerResize();
      });
    }).observe(target);
  }
  return player;
}
