// rrweb recording: DOM snapshots and interactions, handed to `emit` as they come.
import { record } from '@rrweb/record';
import { maskingOptions } from './privacy.js';

const SAMPLING = {
  mousemove: 100, // ms between recorded mouse positions
  scroll: 150, // ms between recorded scroll positions
  media: 800,
  input: 'last', // only the final value of a burst of typing
};

/** Start rrweb; returns stop (a no-op if rrweb could not start). */
export function startRecorder(emit, options) {
  const stop = record({
    emit,
    ...maskingOptions(options),
    sampling: SAMPLING,
    recordCanvas: false,
    collectFonts: false,
    inlineImages: false,
    // A full snapshot every so many ms while a page holds its recording (onfailure.js); none otherwise.
    checkoutEveryNms: options.checkoutEveryNms,
    // Start at DOMContentLoaded, not load: failures during page load matter most.
    recordAfter: 'DOMContentLoaded',
  });
  return stop || (() => {});
}

export { record };

/** A new full snapshot (after the session changed), if rrweb is recording. */
export function snapshot() {
  try { record.takeFullSnapshot(); } catch { /* not recording yet */ }
}
