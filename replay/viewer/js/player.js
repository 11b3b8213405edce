// The replay page's player: started on the first loaded segments, fed the rest as they arrive,
// seeks on request. Returns the playback the other parts follow and steer.
import { clock } from "./clock.js";
import { make } from "./dom.js";
import { firstMeta, hasFullSnapshot } from "./events.js";
import { loadRecording } from "./loader.js";
import { createPlayer } from "./vendor-player.js";

const MAX_WIDTH_PX = 1200;

// el: #player; settings: readSettings(el). Returns { seek(ms), playFrom(ms), onTime(fn), now, player }:
// now is the player's current time in ms from the session start, player the rrweb-player (or null).
// seek leaves the player paused there; playFrom plays on from there.
export function startPlayer(el, settings) {
  const state = document.getElementById("load-state");
  const listeners = [];
  let player = null, loadedUntil = 0, done = false, wanted = null, ready = false;
  let startAt = settings.startAt, startPlaying = false;
  const playback = {
    now: 0,
    get player() { return player; },
    onTime(fn) { listeners.push(fn); },
    seek(ms) { go(Math.max(0, Math.round(ms)), false); },
    playFrom(ms) { go(Math.max(0, Math.round(ms)), true); },
  };

  function say(text) { if (state) state.textContent = text; }

  function show(message) {
    el.textContent = "";
    el.appendChild(make("p", "error", message));
    say("");
  }

  function reachable(ms) { return done || ms < loadedUntil; }

  // Seeks now when the events up to ms are in, else as soon as they are.
  function go(ms, play) {
    if (!player) { startAt = ms; startPlaying = play; return; }
    if (!reachable(ms)) {
      wanted = { ms, play };
      say("Loading the recording up to " + clock(ms) + "…");
      return;
    }
    wanted = null;
    player.goto(ms, play);
    if (!ready) {
      ready = true;
      el.dataset.ready = "true";
    }
  }

  function time(ms) {
    playback.now = ms;
    listeners.forEach((fn) => fn(ms));
  }

  function meta(events) {
    const data = firstMeta(events);
    const viewport = document.getElementById("viewport");
    if (data && viewport && data.width) viewport.textContent = data.width + " × " + data.height + " px";
  }

  function start(events, until) {
    loadedUntil = until;
    if (events.length < 2 || !hasFullSnapshot(events)) {
      show("This session has no page snapshot yet: " + events.length + " events recorded.");
      return;
    }
    el.textContent = "";
    player = createPlayer(el, events, MAX_WIDTH_PX);
    player.addEventListener("ui-update-current-time", (p) => time(p.payload));
    meta(events);
    progress();
    go(startAt, startPlaying);
  }

  function more(events, until) {
    loadedUntil = until;
    if (!player) return;
    if (events.length) {
      const replayer = player.getReplayer();
      // player.addEvent also refreshes the controller's total time: once per chunk is enough.
      for (let i = 0; i < events.length - 1; i++) replayer.addEvent(events[i]);
      player.addEvent(events[events.length - 1]);
    }
    progress();
    // addEvent lands in a microtask: seek after it.
    if (wanted && reachable(wanted.ms)) setTimeout(() => { if (wanted) go(wanted.ms, wanted.play); }, 0);
  }

  function progress() {
    if (done) return say("");
    if (!wanted) say("Loading… " + clock(Math.min(loadedUntil, settings.durationMs)) + " of " + clock(settings.durationMs));
  }

  loadRecording(settings.api, settings.startedMs, {
    start,
    more,
    done() {
      done = true;
      el.dataset.loaded = "true";
      say("");
      if (wanted) setTimeout(() => { if (wanted) go(wanted.ms, wanted.play); }, 0);
    },
    fail(message) { if (player) say(message); else show(message); },
  });
  return playback;
}
