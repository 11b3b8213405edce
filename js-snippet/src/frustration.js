// Frustration signals seen in the page: rage clicks (a burst of clicks on one
// spot) and dead clicks (a click on something clickable that changed nothing).
// Emits `replay.frustration` events; `activity()` is told of DOM changes and
// calls starting, which make a click alive. Retries of failed calls are found
// by the server from the calls themselves.
import { TAG_FRUSTRATION } from './wire.js';

export const RAGE_CLICKS = 3; // clicks in one burst
export const RAGE_GAP_MS = 1000; // a burst ends after this long without a click
export const RAGE_RADIUS_PX = 30;
export const DEAD_MS = 1500; // what a click has to cause something within
const CLICKABLE = 'a,button,[role=button],[role=link],[role=menuitem],[role=tab],[onclick],input[type=submit],input[type=button],input[type=checkbox],input[type=radio],summary,select,label';
const MASKED = '.replay-mask,.replay-block';

/** A short name of the element: tag, id, first class and (unmasked) label, for the viewer. */
export function describe(el, maskAllText) {
  let name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.classList[0] ? '.' + el.classList[0] : '');
  if (!maskAllText && !el.closest(MASKED) && el.type !== 'password') {
    const text = (el.getAttribute('aria-label') || el.innerText || el.value || '').trim().replace(/\s+/g, ' ').slice(0, 40);
    if (text) name += ' "' + text + '"';
  }
  return name.slice(0, 120);
}

/** Watch clicks; returns { stop, activity }. */
export function startFrustration(emit, maskAllText, now = () => Date.now()) {
  let burst = null;
  let pending = [];
  const timers = new Set();
  const later = (fn, ms) => { const t = setTimeout(() => { timers.delete(t); fn(); }, ms); timers.add(t); };

  const endBurst = (b) => {
    if (burst === b) burst = null;
    if (b.count >= RAGE_CLICKS) emit(TAG_FRUSTRATION, { kind: 'rage', count: b.count, x: b.x, y: b.y, target: b.target }, false, b.at);
  };
  const onClick = (e) => {
    try {
      const at = now();
      const el = e.target instanceof Element ? e.target : null;
      const target = el ? describe(el, maskAllText) : '';
      if (burst && at - burst.last <= RAGE_GAP_MS && Math.hypot(e.clientX - burst.x, e.clientY - burst.y) <= RAGE_RADIUS_PX) {
        burst.count++;
        burst.last = at;
      } else {
        burst = { at, last: at, count: 1, x: e.clientX, y: e.clientY, target };
      }
      const b = burst;
      const check = () => (now() - b.last >= RAGE_GAP_MS ? endBurst(b) : later(check, RAGE_GAP_MS));
      if (b.count === 1) later(check, RAGE_GAP_MS);
      // One dead click per burst: the rest of a rage burst is counted there.
      const hit = b.count === 1 && el && el.closest(CLICKABLE);
      if (!hit || hit.disabled) return;
      const click = { at, x: e.clientX, y: e.clientY, target: describe(hit, maskAllText), alive: false };
      pending.push(click);
      later(() => {
        pending = pending.filter((c) => c !== click);
        if (!click.alive) emit(TAG_FRUSTRATION, { kind: 'dead', count: 1, x: click.x, y: click.y, target: click.target }, false, click.at);
      }, DEAD_MS);
    } catch { /* never break the page */ }
  };
  const activity = () => { pending.forEach((c) => { c.alive = true; }); };
  document.addEventListener('click', onClick, true);
  ['hashchange', 'popstate', 'pagehide'].forEach((t) => window.addEventListener(t, activity, true));
  return {
    activity,
    stop() {
      document.removeEventListener('click', onClick, true);
      ['hashchange', 'popstate', 'pagehide'].forEach((t) => window.removeEventListener(t, activity, true));
      timers.forEach(clearTimeout);
    },
  };
}
