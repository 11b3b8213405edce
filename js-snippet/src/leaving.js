// Work due before the transport's last beacons when the page is hidden or left (calls
// still waiting for something). Created before the transport, so these listeners run
// before its own.

/** {add(fn) → remove, stop()}: each fn added runs once, when the page is hidden or left. */
export function createLeaving() {
  const due = new Set();
  const run = () => {
    const fns = [...due];
    due.clear();
    fns.forEach((fn) => { try { fn(); } catch { /* the others still run */ } });
  };
  const onHidden = () => { if (document.visibilityState === 'hidden') run(); };
  try {
    addEventListener('pagehide', run);
    document.addEventListener('visibilitychange', onHidden);
  } catch { /* not in a page */ }
  return {
    add(fn) {
      due.add(fn);
      return () => due.delete(fn);
    },
    stop() {
      try {
        removeEventListener('pagehide', run);
        document.removeEventListener('visibilitychange', onHidden);
      } catch { /* not in a page */ }
    },
  };
}
