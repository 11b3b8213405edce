// The panels beside the player: tabs, click a row to seek, and the row at the current
// playback time highlighted and kept in view (unless the user scrolled that panel lately).

const USER_SCROLL_HOLD_MS = 4000; // after the user scrolls a panel, playback leaves it alone this long

// playback: startPlayer's. Returns { changed(ol), hold(row) } for the panels that fill their lists.
export function startRows(playback) {
  const tabs = Array.from(document.querySelectorAll(".tabs [role=tab]"));
  const lists = [];

  function panelOf(name) { return document.getElementById("panel-" + name); }

  function select(name) {
    tabs.forEach((tab) => {
      const on = tab.dataset.panel === name;
      tab.setAttribute("aria-selected", on ? "true" : "false");
      panelOf(tab.dataset.panel).hidden = !on;
    });
    lists.forEach((list) => { if (list.current) reveal(list, list.current); });
  }
  tabs.forEach((tab) => { tab.addEventListener("click", () => select(tab.dataset.panel)); });

  function index(list) {
    list.rows = Array.prototype.filter.call(list.ol.children, (li) =>
      li.dataset.offset !== undefined && !li.classList.contains("off"));
    list.offsets = list.rows.map((li) => parseInt(li.dataset.offset, 10) || 0);
    list.at = -2;
    follow(list, playback.now);
  }

  function reveal(list, row) {
    const box = list.panel;
    if (box.hidden || Date.now() - list.userAt < USER_SCROLL_HOLD_MS) return;
    const y = row.offsetTop;
    if (y < box.scrollTop || y + row.offsetHeight > box.scrollTop + box.clientHeight) {
      box.scrollTop = Math.max(0, y - box.clientHeight / 3);
    }
  }

  // The last row at or before ms (binary search: rows are in time order).
  function follow(list, ms) {
    let lo = 0, hi = list.offsets.length - 1, at = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (list.offsets[mid] <= ms) { at = mid; lo = mid + 1; } else hi = mid - 1;
    }
    if (at === list.at) return;
    list.at = at;
    if (list.current) list.current.classList.remove("current");
    list.current = at >= 0 ? list.rows[at] : null;
    if (list.current) {
      list.current.classList.add("current");
      reveal(list, list.current);
    }
  }

  document.querySelectorAll(".panel ol.rows").forEach((ol) => {
    const list = { ol, panel: ol.closest(".panel"), userAt: 0, current: null };
    ["wheel", "touchstart", "keydown", "pointerdown"].forEach((type) => {
      list.panel.addEventListener(type, () => { list.userAt = Date.now(); }, { passive: true });
    });
    lists.push(list);
    index(list);
  });

  playback.onTime((ms) => { lists.forEach((list) => follow(list, ms)); });

  document.addEventListener("click", (e) => {
    const button = e.target.closest(".rows .seek");
    if (!button) return;
    const row = button.closest("[data-offset]");
    if (row) playback.seek(parseInt(row.dataset.offset, 10) || 0);
  });

  return {
    // A panel whose rows changed (loaded, filtered) says so with its list element.
    changed(ol) { lists.forEach((list) => { if (list.ol === ol) index(list); }); },
    // Scrolled into view on purpose (an opened call): playback leaves the panel there for a while.
    hold(row) {
      lists.forEach((list) => {
        if (!list.ol.contains(row)) return;
        list.panel.scrollTop = Math.max(0, row.offsetTop - 8);
        list.userAt = Date.now();
      });
    },
  };
}
