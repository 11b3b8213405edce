// Resource timing: the breakdown of a call's time, and the calls that started
// before anything wrapped fetch/XHR, recovered from the browser's own record.

import { maskQuery } from './privacy.js';

const INITIATORS = { fetch: 'fetch', xmlhttprequest: 'xhr' };
// The browser starts a call's entry within this of the moment a wrapper saw it.
const MATCH_MS = 100;

export const ms = (t) => Math.round(t * 10) / 10;

// Index of the item of `list` whose start (`at`) is nearest `t`, within MATCH_MS; -1 for none.
function nearest(list, t, at) {
  let best = -1;
  let gap = MATCH_MS;
  list.forEach((x, i) => {
    const d = Math.abs(at(x) - t);
    if (d < gap) { best = i; gap = d; }
  });
  return best;
}

// {timing}: DNS, connect, TLS, waiting for the first byte and download, in ms; {} where
// the browser keeps them back (another origin without Timing-Allow-Origin, no response).
function timed(e) {
  if (!e.responseStart || !e.requestStart) return {};
  const tls = e.secureConnectionStart;
  return {
    timing: {
      dns: ms(e.domainLookupEnd - e.domainLookupStart),
      connect: ms((tls || e.connectEnd) - e.connectStart),
      tls: tls ? ms(e.connectEnd - tls) : 0,
      ttfb: ms(e.responseStart - e.requestStart),
      download: ms(e.responseEnd - e.responseStart),
    },
  };
}

/** `{timing}` of the call to `url` that a wrapper saw start at `t0` (performance.now()), or {} when there is none. */
export function timingOf(url, t0) {
  try {
    const list = performance.getEntriesByName(url, 'resource').filter((e) => INITIATORS[e.initiatorType]);
    return timed(list[nearest(list, t0, (e) => e.startTime)] || {});
  } catch {
    return {}; // no resource timing here
  }
}

/**
 * Reports, as `replay.network` payloads marked `recovered`, the fetch/XHR calls
 * that started before `before` (performance.now()) and are not among `known`
 * (call records, calls.js, some still in flight: matched by URL and start).
 * Those in the buffer now, and those that end later. Returns stop.
 */
export function recoverCalls(before, known, report) {
  const seen = new Set(); // the observer's buffered delivery brings the buffer's entries again
  const look = (entries) => entries.forEach((e) => {
    const initiator = INITIATORS[e.initiatorType];
    const key = e.name + ' ' + e.startTime;
    if (!initiator || e.startTime >= before || seen.has(key)) return;
    seen.add(key);
    const same = known.filter((c) => c.u === e.name);
    const i = nearest(same, e.startTime, (c) => c.p);
    if (i >= 0) return void known.splice(known.indexOf(same[i]), 1);
    const status = e.responseStatus | 0; // 0: the browser does not say
    report({
      method: null,
      url: maskQuery(e.name),
      status,
      statusText: '',
      initiator,
      startTime: Math.round(performance.timeOrigin + e.startTime),
      duration: ms(e.duration),
      failed: status >= 400,
      error: null,
      recovered: true,
      ...timed(e),
    });
  });
  let observer = null;
  try {
    look(performance.getEntriesByType('resource'));
    observer = new PerformanceObserver((list) => { try { look(list.getEntries()); } catch { /* ignore */ } });
    observer.observe({ type: 'resource', buffered: true });
  } catch { /* no resource timing, or no observer of it */ }
  return () => observer && observer.disconnect();
}
