// Page going away: everything unacked leaves by beacon, synchronously, as JSON.
// Browsers allow about 64 KB of such requests in flight, so batches never
// sent go first, newest first (the failed call and the errors just before the
// page went away); the ones on an open socket but not yet acked come after.
// A batch too large for any beacon (a big full snapshot) can only go by
// socket: it is skipped, never in the way of the others.

const MAX_BEACON_BYTES = 56 * 1024; // browsers allow 64 KiB of beacons in flight

/** Beacons the buffer's batches to `url`; those sent on `socket` (if any) go last. */
export function sendBeacons({ env, url, buffer, wire, socket }) {
  buffer.flush();
  const onSocket = (b) => !!socket && buffer.sentOn(b, socket);
  const todo = buffer.unbeaconed().reverse();
  todo.sort((a, b) => onSocket(a) - onSocket(b)); // stable: newest first within each
  for (const group of wire.groups(todo, MAX_BEACON_BYTES)) {
    if (group.bytes > MAX_BEACON_BYTES) continue;
    const body = wire.envelope(group);
    // Still unacked: the socket or a POST sends them again if the page stays.
    buffer.markBeaconed(group);
    let ok = false;
    try { ok = env.sendBeacon(url, new Blob([body], { type: 'text/plain' })); } catch { /* try fetch */ }
    if (ok) continue;
    try {
      env.fetch(url, { method: 'POST', body, keepalive: true, mode: 'no-cors', credentials: 'omit' })
        .catch(() => buffer.markBeaconed(group, false));
    } catch {
      buffer.markBeaconed(group, false);
    }
    return; // a beacon that fits was refused: over the browser's quota, the rest would be too
  }
}
