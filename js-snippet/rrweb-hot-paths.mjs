// Changes to @rrweb/record's mutation work, applied by build.mjs to the text of its dist/record.js. Each
// names the exact text it replaces; if any does not find it (rrweb changed), none is applied: build.mjs
// warns and bundles rrweb as it is (slower, not wrong), and test/rrweb-hot-paths.test.js fails.
//
// The snippet holds rrweb's mutation buffers frozen for up to a second after each mutation event
// (src/coalesce.js). Frozen, rrweb still works through every MutationRecord as it arrives; the work is
// only worth doing for nodes that are still there when the buffer is emitted. A page rewriting a table
// replaces each cell's text node several times a second: most added nodes are gone again before the
// emit, and rrweb would drop them then, after having tracked each one (sets, mirror look-ups, ancestor
// walks).
export const HOT_PATHS = [
  {
    // While frozen, records are kept as they come (their arrays, no work). The emit that ends the hold
    // works through them in order first, leaving out what rrweb would drop anyway:
    // - an added node that is in neither the document nor rrweb's mirror: it was added and taken out
    //   again (rrweb's emit drops a node whose parent is gone or out of the document);
    // - a removed node rrweb never serialised: rrweb skips its removal (`!isSerialized`).
    // A removed node rrweb knows is always worked through: its removal and its place in the mirror are
    // what the replay needs. A textarea's children stand for its value: those records go through whole.
    // Two things cannot wait: a password field turned into text is marked at once, as rrweb does, so
    // that its value stays masked when typed before the hold ends; and past MAX_DEFERRED_RECORDS (a
    // buffer left frozen, a flood) the records are worked through there and then, as rrweb would.
    // A record that throws is skipped, as it would have been in the observer's callback, not the rest.
    // Blocking (replay-block) and masking are decided on the page as it is when the records are worked
    // through: a node blocked during the hold has its earlier changes left out too.
    name: 'defer-while-frozen',
    find: `    __publicField(this, "processMutations", (mutations) => {
      mutations.forEach(this.processMutation);
      this.emit();
    });
    __publicField(this, "emit", () => {
      if (this.frozen || this.locked) {
        return;
      }
`,
    replace: `    __publicField(this, "deferred", []);
    __publicField(this, "deferredRecords", 0);
    __publicField(this, "processMutations", (mutations) => {
      if (this.frozen) {
        for (const m of mutations) {
          if (m.type === "attributes" && m.attributeName === "type" && m.target.tagName === "INPUT" && (m.oldValue || "").toLowerCase() === "password") {
            m.target.setAttribute("data-rr-is-password", "true");
          }
        }
        this.deferred.push(mutations);
        this.deferredRecords += mutations.length;
        if (this.deferredRecords > MAX_DEFERRED_RECORDS) this.processAllDeferred();
        return;
      }
      mutations.forEach(this.processMutation);
      this.emit();
    });
    __publicField(this, "processAllDeferred", () => {
      const deferred = this.deferred;
      this.deferred = [];
      this.deferredRecords = 0;
      for (const mutations of deferred) {
        for (const m of mutations) {
          try {
            this.processDeferred(m);
          } catch (e) {
          }
        }
      }
    });
    __publicField(this, "processDeferred", (m) => {
      if (m.type === "childList") {
        const mirror = this.mirror;
        const addedNodes = keptNodes(m.addedNodes, (n) => mirror.hasNode(n) || n.isConnected);
        const removedNodes = keptNodes(m.removedNodes, (n) => mirror.hasNode(n));
        if ((addedNodes || removedNodes) && m.target.tagName !== "TEXTAREA") {
          m = { type: "childList", target: m.target, addedNodes: addedNodes || m.addedNodes, removedNodes: removedNodes || m.removedNodes };
          if (!m.addedNodes.length && !m.removedNodes.length) return;
        }
      }
      this.processMutation(m);
    });
    __publicField(this, "emit", () => {
      if (this.frozen || this.locked) {
        return;
      }
      if (this.deferred.length) this.processAllDeferred();
`,
  },
  {
    // The helper of defer-while-frozen: null when every node is kept (the record goes through as it is).
    name: 'kept-nodes-helper',
    find: 'function deepDelete(addsSet, n) {',
    replace: `const MAX_DEFERRED_RECORDS = 50000;
function keptNodes(nodes, keep) {
  let kept = null;
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i];
    if (keep(n)) {
      if (kept) kept.push(n);
    } else if (!kept) {
      kept = [];
      for (let j = 0; j < i; j++) kept.push(nodes[j]);
    }
  }
  return kept;
}
function deepDelete(addsSet, n) {`,
  },
  {
    // Only a document fragment can be a shadow root: most nodes are answered without two `in` look-ups
    // on a DOM object.
    name: 'shadow-root-test',
    find: `    n && "host" in n && "mode" in n && index.host(n) || null`,
    replace: `    n && n.nodeType === 11 && "host" in n && "mode" in n && index.host(n) || null`,
  },
];

/** The text with every change applied, each to the one place its text is found; or, if any change does
 * not find its text exactly once, the text as it was (the changes depend on one another) and `missed`
 * naming those changes. */
export function patchHotPaths(original) {
  const missed = [];
  let text = original;
  for (const { name, find, replace } of HOT_PATHS) {
    const at = text.indexOf(find);
    if (at < 0 || text.indexOf(find, at + 1) >= 0) missed.push(name);
    else text = text.slice(0, at) + replace + text.slice(at + find.length);
  }
  return missed.length ? { text: original, missed } : { text, missed };
}
