// "1:02.3": minutes, seconds and tenths from the session start.
export function clock(ms) {
  const s = Math.max(0, ms || 0) / 1000;
  const m = Math.floor(s / 60);
  const rest = (s - m * 60).toFixed(1);
  return m + ":" + (rest < 10 ? "0" : "") + rest;
}
