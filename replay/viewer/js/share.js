// Share links (logged-in pages only): create one, at the current moment unless unticked; list this
// session's links; revoke your own.
import { clock } from "./clock.js";
import { make } from "./dom.js";
import { getJSON } from "./http.js";

function when(ms) { return new Date(ms).toISOString().slice(0, 16).replace("T", " ") + " UTC"; }

// session: the session id; playback: startPlayer's; copy: createClipboard's. Returns { create(body) }
// (a promise of the new link: url, expires_ms), which "Copy for ticket" uses too; null on a shared page.
export function startShare(session, playback, copy) {
  const box = document.getElementById("share-box");
  const opener = document.getElementById("share-open");
  const csrf = document.querySelector("meta[name=csrf-token]");
  if (!box || !opener || !csrf) return null;
  const form = document.getElementById("share-form");
  const result = document.getElementById("share-result");
  const output = document.getElementById("share-url");
  const error = document.getElementById("share-error");
  const list = document.getElementById("share-links");
  const base = "/sessions/" + encodeURIComponent(session);

  function post(path, body) {
    return fetch(path, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf.content },
      body: JSON.stringify(body || {}),
    }).then((r) => r.json().then((data) => {
      if (!r.ok) throw new Error((data && data.error && data.error.message) || "HTTP " + r.status);
      return data;
    }));
  }

  function item(link) {
    const li = make("li", "share-link state-" + link.state);
    const text = "Made " + when(link.created_ms) + " by " + link.created_by +
      (link.t_ms !== null ? " · opens at " + clock(link.t_ms) : "") +
      (link.state === "active" ? " · expires " + when(link.expires_ms) : "");
    li.appendChild(make("span", "state", link.state));
    li.appendChild(make("span", "what", text));
    if (link.state === "active" && link.created_by === box.dataset.viewer) {
      const revoke = make("button", "revoke", "Revoke");
      revoke.type = "button";
      revoke.addEventListener("click", () => {
        revoke.disabled = true;
        post("/share/" + encodeURIComponent(link.id) + "/revoke").then(refresh, (err) => {
          error.textContent = err.message;
          revoke.disabled = false;
        });
      });
      li.appendChild(revoke);
    }
    return li;
  }

  function refresh() {
    return getJSON(base + "/shares").then((body) => {
      list.textContent = "";
      body.links.forEach((link) => { list.appendChild(item(link)); });
      if (!body.links.length) list.appendChild(make("li", "none", "No links yet."));
    }, (err) => { error.textContent = err.message; });
  }

  opener.addEventListener("click", () => {
    box.hidden = !box.hidden;
    opener.setAttribute("aria-expanded", box.hidden ? "false" : "true");
    if (!box.hidden) refresh();
  });

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    error.textContent = "";
    const body = { ttl_s: parseInt(form.elements.ttl_s.value, 10) };
    if (form.elements.at_moment.checked) body.t_ms = Math.round(playback.now);
    post(base + "/share", body).then((made) => {
      result.hidden = false;
      output.value = made.url;
      output.select();
      return refresh();
    }, (err) => { error.textContent = err.message; });
  });

  document.getElementById("share-copy").addEventListener("click", () => {
    copy(output.value, "Share link");
  });
  return { create: (body) => post(base + "/share", body) };
}
