// The replay page's settings, as the server wrote them on #player's data attributes.

export function readSettings(el) {
  const d = el.dataset;
  return {
    session: d.session,
    api: d.api, // "/api/sessions/<id>" or, on a shared page, "/share/<token>"
    link: d.link, // absolute URL of this page without query
    startedMs: parseInt(d.started || "0", 10) || 0,
    durationMs: parseInt(d.duration || "0", 10) || 0,
    startAt: parseInt(d.t || "0", 10) || 0, // ?t= (or the moment the ?call= call failed), ms from the session start
    openCall: d.openCall || null,
    shared: d.shared === "true",
    user: d.user,
    page: d.page, // the session's first page URL
  };
}
