// Work due before the transport's last beacons when the page is hidden or left (calls
// still waiting for something). Created before the transport, so these listeners run
// before its own.

/**
 * {add(fn, leftOnly) → remove, stop()}: each fn added runs once, when the page is hidden or
 * left (`leftOnly`: only when it is left, pagehide; a hidden tab may come back).
 */
export function createLeaving() {
  const due = new Map(); // fn → leftOnly
  const run = (left) => due.forEach((leftOnly, fn) => {
    if (leftOnly && !left) return;
    due.delete(fn);
    try { fn(); } catch { /* the others still run */ }
  });
  const onLeft = () => run(true);
  const onHidden = () => { if (document.visibilityState === 'hidden') run(false); };
  try {
    addEventListener('pagehide', onLeft);
    document.addEventListener('visibilitychange', onHidden);
  } catch { /* not in a page */ }
  return {
    add(fn, leftOnly = false) {
      due.set(fn, leftOnly);
      return () => due.delete(fn);
    },
    stop() {
      try {
        removeEventListener('pagehide', onLeft);
        document.removeEventListener('visibilitychange', onHidden);
      } catch { /* not in a page */ }
    },
  };
}
