// Mutation floods (a page changing hundreds of thousands of attributes a second): past FLOOD_BYTES or
// FLOOD_EVENTS of mutations in a second, the snippet drops the page's mutations for the rest of that
// second, then marks the gap and takes a fresh full snapshot (`onGap(dropped)`). Floods back to back
// double the pause, up to MAX_PAUSE_MS: a page that never calms down costs little upload.
// Measured after coalescing (coalesce.js), which folds a second of changes into what is left of them (a
// page's mutations then come to at most the changed part of its DOM once a second, however often it
// changes it), and packing (pack.js). bench/page_cost.py's legitimate 1,000 x 8 table rewritten 10 times a
// second comes to about 0.35 MB a second packed (1.05-1.15 MB as rrweb writes it); its flood (8,000
// cells' 200-character attributes, which packing barely shrinks) to about 1.7 MB.
export const FLOOD_BYTES = 1.5 * 1024 * 1024;
export const FLOOD_EVENTS = 1000;
export const MAX_PAUSE_MS = 32000;

/** Returns `gate(bytes)`: whether a mutation event of that many bytes is dropped. */
export function createFlood(onGap, now = Date.now, later = setTimeout) {
  let start = 0;
  let bytes = 0;
  let events = 0;
  let pause = 1000;
  let dropped = -1; // while dropping: how many so far
  return (n) => {
    if (dropped >= 0) return ++dropped;
    const t = now();
    if (t - start >= 1000) {
      pause = 1000; // a calm second: the next flood pauses for the rest of one second again
      start = t;
      bytes = events = 0;
    }
    if ((bytes += n) <= FLOOD_BYTES && ++events <= FLOOD_EVENTS) return false;
    dropped = 1;
    later(() => {
      onGap(dropped);
      dropped = -1;
      start = now();
      bytes = events = 0;
    }, start + pause - t);
    pause = Math.min(pause * 2, MAX_PAUSE_MS);
    return true;
  };
}
