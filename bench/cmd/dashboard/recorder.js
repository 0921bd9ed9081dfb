// The benchmark's recorder, run in the dashboard's page before the page's
// own scripts (Page.addScriptToEvaluateOnNewDocument). It changes nothing
// the page does; it only notes, in the page's clock:
// - when the matrix first holds window.__flotillaBenchCells cells
//   (td[data-stack]), in milliseconds since the navigation started;
// - when the first Fleet arrived: the event stream's first fleet event, or
//   the end of the body of GET /api/fleet, whichever came first;
// - when each cell first showed each readiness and revision, in Unix
//   milliseconds, so the benchmark can compare it with its own clock.
(() => {
  const target = window.__flotillaBenchCells || 0;
  const rec = { full: null, fleetEvent: null, cells: new Map() };
  const epoch = () => performance.timeOrigin + performance.now();

  // A listener added when the page creates its EventSource runs before the
  // page's own, so it notes the fleet event's arrival, not its handling.
  const Native = window.EventSource;
  if (Native) {
    window.EventSource = class extends Native {
      constructor(url, init) {
        super(url, init);
        this.addEventListener('fleet', () => {
          if (rec.fleetEvent === null) rec.fleetEvent = performance.now();
        });
      }
    };
  }

  const note = (td) => {
    const row = td.closest('tr[data-cluster]');
    if (!row) return;
    const key = row.dataset.cluster + '|' + td.dataset.stack;
    const state = (td.dataset.revision || '') + '|' + (td.dataset.ready || '');
    let states = rec.cells.get(key);
    if (!states) rec.cells.set(key, (states = new Map()));
    if (!states.has(state)) states.set(state, epoch());
  };
  const noteAll = (node) => {
    if (node.nodeType !== Node.ELEMENT_NODE) return;
    if (node.matches('td[data-stack]')) note(node);
    node.querySelectorAll('td[data-stack]').forEach(note);
  };
  new MutationObserver((mutations) => {
    for (const m of mutations) {
      if (m.type === 'attributes') noteAll(m.target);
      else m.addedNodes.forEach(noteAll);
    }
    if (rec.full === null && target > 0 && document.querySelectorAll('td[data-stack]').length >= target) {
      rec.full = performance.now();
    }
  }).observe(document, {
    subtree: true, childList: true, attributes: true,
    attributeFilter: ['data-ready', 'data-revision', 'data-stack', 'data-cluster'],
  });

  window.__flotillaBench = {
    // load returns the load's times, null until they are known.
    load() {
      const fetched = performance.getEntriesByType('resource')
        .filter((e) => new URL(e.name).pathname === '/api/fleet' && e.responseEnd > 0)
        .map((e) => e.responseEnd);
      const data = [rec.fleetEvent, ...fetched].filter((t) => t !== null);
      return { full: rec.full, data: data.length ? Math.min(...data) : null };
    },
    // seen returns when the cell of stack (namespace/name) in cluster first
    // showed readiness ready at a revision that revision (a whole
    // "main@sha1:<hash>") begins with once its "<ref>@sha1:" is cut, or null.
    seen(cluster, stack, revision, ready) {
      const states = rec.cells.get(cluster + '|' + stack);
      if (!states) return null;
      const hash = revision.replace(/^.*sha1:/, '');
      for (const [state, at] of states) {
        const [rev, r] = state.split('|');
        const short = rev.replace(/^.*sha1:/, '');
        if (r === ready && short.length >= 4 && hash.startsWith(short)) return at;
      }
      return null;
    },
  };
})();
