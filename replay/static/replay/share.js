// Share links (logged-in pages only): create one, optionally at the current moment; list this
// session's links; revoke your own.
(function () {
  "use strict";
  var V = window.ReplayView;
  var box = document.getElementById("share-box");
  var opener = document.getElementById("share-open");
  var csrf = document.querySelector("meta[name=csrf-token]");
  if (!V || !box || !opener || !csrf) return;
  var form = document.getElementById("share-form");
  var result = document.getElementById("share-result");
  var output = document.getElementById("share-url");
  var error = document.getElementById("share-error");
  var list = document.getElementById("share-links");
  var base = "/sessions/" + encodeURIComponent(V.session);

  function post(path, body) {
    return fetch(path, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf.content },
      body: JSON.stringify(body || {}),
    }).then(function (r) {
      return r.json().then(function (data) {
        if (!r.ok) throw new Error((data && data.error && data.error.message) || "HTTP " + r.status);
        return data;
      });
    });
  }

  function when(ms) { return new Date(ms).toISOString().slice(0, 16).replace("T", " ") + " UTC"; }

  function item(link) {
    var li = V.make("li", "share-link state-" + link.state);
    var text = "Made " + when(link.created_ms) + " by " + link.created_by +
      (link.t_ms !== null ? " · opens at " + V.clock(link.t_ms) : "") +
      (link.state === "active" ? " · expires " + when(link.expires_ms) : "");
    li.appendChild(V.make("span", "state", link.state));
    li.appendChild(V.make("span", "what", text));
    if (link.state === "active" && link.created_by === box.dataset.viewer) {
      var revoke = V.make("button", "revoke", "Revoke");
      revoke.type = "button";
      revoke.addEventListener("click", function () {
        revoke.disabled = true;
        post("/share/" + encodeURIComponent(link.id) + "/revoke").then(refresh, function (err) {
          error.textContent = err.message;
          revoke.disabled = false;
        });
      });
      li.appendChild(revoke);
    }
    return li;
  }

  function refresh() {
    return V.getJSON(base + "/shares").then(function (body) {
      list.textContent = "";
      body.links.forEach(function (link) { list.appendChild(item(link)); });
      if (!body.links.length) list.appendChild(V.make("li", "none", "No links yet."));
    }, function (err) { error.textContent = err.message; });
  }

  opener.addEventListener("click", function () {
    box.hidden = !box.hidden;
    opener.setAttribute("aria-expanded", box.hidden ? "false" : "true");
    if (!box.hidden) refresh();
  });

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    error.textContent = "";
    var body = { ttl_s: parseInt(form.elements.ttl_s.value, 10) };
    if (form.elements.at_moment.checked) body.t_ms = Math.round(V.now);
    post(base + "/share", body).then(function (made) {
      result.hidden = false;
      output.value = made.url;
      output.select();
      return refresh();
    }, function (err) { error.textContent = err.message; });
  });

  document.getElementById("share-copy").addEventListener("click", function () {
    V.copy(output.value, "Share link");
  });
})();
