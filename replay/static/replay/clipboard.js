// Copies text: the async clipboard API, else a selected textarea and execCommand. Either
// way the text stays visible in a read-only field, for browsers that refuse both.
(function () {
  "use strict";
  var V = window.ReplayView;
  if (!V) return;
  var box = document.getElementById("copied");
  var field = document.getElementById("copied-text");
  var what = document.getElementById("copied-what");

  function fallback(text) {
    field.value = text;
    field.focus();
    field.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    return ok ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  V.copy = function (text, label) {
    box.hidden = false;
    field.value = text;
    field.rows = Math.min(8, text.split("\n").length);
    var done = navigator.clipboard && window.isSecureContext
      ? navigator.clipboard.writeText(text).catch(function () { return fallback(text); })
      : fallback(text);
    return done.then(function () {
      what.textContent = label + " copied to the clipboard:";
    }, function () {
      what.textContent = label + " (copy it from here):";
      field.select();
    });
  };
})();
