// GET a JSON body with the page's login cookie; a non-2xx answer rejects with the API's message
// and the HTTP status (err.status; absent when the request itself failed, which callers may retry).
export function getJSON(path) {
  return fetch(path, { credentials: "same-origin" }).then((r) =>
    r.json().catch(() => null).then((body) => {
      if (!r.ok) {
        const message = body && body.error && body.error.message;
        const err = new Error(message || "HTTP " + r.status);
        err.status = r.status;
        throw err;
      }
      return body;
    }));
}
