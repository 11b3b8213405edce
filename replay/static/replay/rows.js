// The panels beside the player: tabs, click a row to seek, and the row at the current
// playback time highlighted and kept in view (unless the user scrolled that panel lately).
(function () {
  "use strict";
  var V = window.ReplayView;
  if (!V) return;
  var USER_SCROLL_HOLD_MS = 4000; // after the user scrolls a panel, playback leaves it alone this long
  var tabs = Array.prototype.slice.call(document.querySelectorAll(".tabs [role=tab]"));
  var lists = [];

  function panelOf(name) { return document.getElementById("panel-" + name); }

  function select(name) {
    tabs.forEach(function (tab) {
      var on = tab.dataset.panel === name;
      tab.setAttribute("aria-selected", on ? "true" : "false");
      panelOf(tab.dataset.panel).hidden = !on;
    });
    lists.forEach(function (list) { if (list.current) reveal(list, list.current); });
  }
  tabs.forEach(function (tab) { tab.addEventListener("click", function () { select(tab.dataset.panel); }); });
  V.showPanel = select;

  function index(list) {
    list.rows = Array.prototype.filter.call(list.ol.children, function (li) {
      return li.dataset.offset !== undefined && !li.classList.contains("off");
    });
    list.offsets = list.rows.map(function (li) { return parseInt(li.dataset.offset, 10) || 0; });
    list.at = -2;
    follow(list, V.now);
  }

  function reveal(list, row) {
    var box = list.panel;
    if (box.hidden || Date.now() - list.userAt < USER_SCROLL_HOLD_MS) return;
    var y = row.offsetTop;
    if (y < box.scrollTop || y + row.offsetHeight > box.scrollTop + box.clientHeight) {
      box.scrollTop = Math.max(0, y - box.clientHeight / 3);
    }
  }

  // The last row at or before ms (binary search: rows are in time order).
  function follow(list, ms) {
    var lo = 0, hi = list.offsets.length - 1, at = -1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
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

  document.querySelectorAll(".panel ol.rows").forEach(function (ol) {
    var list = { ol: ol, panel: ol.closest(".panel"), userAt: 0, current: null };
    ["wheel", "touchstart", "keydown", "pointerdown"].forEach(function (type) {
      list.panel.addEventListener(type, function () { list.userAt = Date.now(); }, { passive: true });
    });
    lists.push(list);
    index(list);
  });

  // A panel whose rows changed (loaded, filtered) says so with its list element.
  V.on("rows", function (ol) {
    lists.forEach(function (list) { if (list.ol === ol) index(list); });
  });
  // Scrolled into view on purpose (an opened call): playback leaves the panel there for a while.
  V.hold = function (row) {
    lists.forEach(function (list) {
      if (!list.ol.contains(row)) return;
      list.panel.scrollTop = Math.max(0, row.offsetTop - 8);
      list.userAt = Date.now();
    });
  };
  V.on("time", function (ms) { lists.forEach(function (list) { follow(list, ms); }); });

  document.addEventListener("click", function (e) {
    var button = e.target.closest(".rows .seek");
    if (!button) return;
    var row = button.closest("[data-offset]");
    if (row) V.seek(parseInt(row.dataset.offset, 10) || 0);
  });
})();
