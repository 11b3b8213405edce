// Copies text: the async clipboard API, else a selected textarea and execCommand. Either
// way the text stays visible in a read-only field (#copied), for browsers that refuse both.

function fallback(field, text) {
  field.value = text;
  field.focus();
  field.select();
  let ok = false;
  try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
  return ok ? Promise.resolve() : Promise.reject(new Error("copy refused"));
}

// Returns copy(text, label), which shows the text and says whether it reached the clipboard.
export function createClipboard() {
  const box = document.getElementById("copied");
  const field = document.getElementById("copied-text");
  const what = document.getElementById("copied-what");

  return function copy(text, label) {
    box.hidden = false;
    field.value = text;
    field.rows = Math.min(8, text.split("\n").length);
    const done = navigator.clipboard && window.isSecureContext
      ? navigator.clipboard.writeText(text).catch(() => fallback(field, text))
      : fallback(field, text);
    return done.then(() => {
      what.textContent = label + " copied to the clipboard:";
    }, () => {
      what.textContent = label + " (copy it from here):";
      field.select();
    });
  };
}
