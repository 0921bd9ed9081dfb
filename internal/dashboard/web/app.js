// Flotilla's fleet dashboard: plain JavaScript, no framework, no build step.
//
// The page reads the JSON of internal/dashboard/model.go through the routes
// of docs/design/dashboard.md and keeps the DOM attributes the browser tests
// read (the "What tests hold on to" table) stable. Every string from the API
// goes through esc() or textContent: names and messages come from clusters
// and must never become markup.

const state = {
  fleet: null, // the Fleet the page shows
  route: { view: 'fleet' },
  filter: 'all', // the matrix filter chip
  query: '', // the matrix search text
  cursor: null, // {cluster, col}: the matrix cell that holds the tab stop
  shape: '', // the visible rows and columns the matrix was last drawn with
  detail: null, // the StackDetail shown
  delivery: null, // the Delivery shown
  plan: null, // the last Plan answered
  planHead: '', // the branch chosen on the plan page
  planBusy: false,
  closedNamespaces: new Set(), // inventory namespaces the user collapsed
  actionNote: '', // the last action's outcome on the Stack page (HTML, escaped)
  stackError: '', // why the last read of the Stack failed (HTML, escaped)
  swallowSlash: false, // the "/" that focused the search must not be typed into it
  wantSearch: false, // focus the search once the matrix is drawn
  fetchSeq: 0, // drops answers to requests a newer one replaced
};

// ---------------------------------------------------------------- helpers

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** esc makes any value inert inside HTML text and quoted attributes. */
export function esc(v) {
  return String(v ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

/** shortSha is the 7 first characters of the hash after "sha1:" (or of the whole revision). */
export function shortSha(rev) {
  if (!rev) return '';
  const i = rev.lastIndexOf('sha1:');
  const h = i >= 0 ? rev.slice(i + 5) : rev.slice(rev.lastIndexOf('@') + 1);
  return h.slice(0, 7);
}

/** ago is a time relative to now, for people: "just now", "3m ago", "2h ago". */
export function ago(iso, now = Date.now()) {
  if (!iso) return '';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '';
  const s = Math.round((now - t) / 1000);
  if (s < 0) return 'in the future';
  if (s < 10) return 'just now';
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

/** absTime is a local, unambiguous time for titles. */
function absTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const p = (n) => String(n).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  const tz = `UTC${off >= 0 ? '+' : '-'}${p(Math.floor(Math.abs(off) / 60))}:${p(Math.abs(off) % 60)}`;
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${tz}`;
}

/** timeHTML is a <time> the page refreshes every few seconds. */
function timeHTML(iso, cls = 'ago') {
  if (!iso) return '';
  return `<time class="${cls}" datetime="${esc(iso)}" title="${esc(absTime(iso))}" data-ago>${esc(ago(iso))}</time>`;
}

function refreshTimes() {
  const now = Date.now();
  for (const t of $$('time[data-ago]')) {
    const text = ago(t.getAttribute('datetime'), now);
    if (t.textContent !== text) t.textContent = text;
  }
}

/** status is how a Stack row looks: a class, a glyph and a word (never colour alone). */
function status(s) {
  if (s.suspended) return { cls: 'suspended', glyph: '\u2016', word: 'suspended' };
  if (s.reconciling) return { cls: 'wait', glyph: '\u21BB', word: 'reconciling' };
  if (s.ready === 'True') return { cls: 'ok', glyph: '\u2713', word: 'ready' };
  if (s.ready === 'False') return { cls: 'fail', glyph: '\u2715', word: 'not ready' };
  return { cls: 'wait', glyph: '\u2026', word: 'unknown' };
}

/** conditionClass maps True/False/Unknown (or health words) to a badge class. */
function readyClass(r) {
  if (r === 'True') return 'ok';
  if (r === 'False') return 'fail';
  return 'wait';
}

const HEALTH = {
  Current: { cls: 'ok', glyph: '\u2713' },
  InProgress: { cls: 'wait', glyph: '\u21BB' },
  Failed: { cls: 'fail', glyph: '\u2715' },
  Terminating: { cls: 'wait', glyph: '\u2193' },
  NotFound: { cls: 'fail', glyph: '?' },
  Unknown: { cls: 'neutral', glyph: '?' },
};

function badge(cls, glyph, word, title) {
  const t = title ? ` title="${esc(title)}"` : '';
  return `<span class="badge ${cls}"${t}><span aria-hidden="true">${esc(glyph)}</span> ${esc(word)}</span>`;
}

function readyBadge(r) {
  const g = { True: '\u2713', False: '\u2715' }[r] || '\u2026';
  const w = { True: 'ready', False: 'not ready' }[r] || 'unknown';
  return badge(readyClass(r), g, w);
}

function stackKey(s) {
  return `${s.namespace}/${s.name}`;
}

function stackHref(cluster, namespace, name) {
  return `#/stack/${encodeURIComponent(cluster)}/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;
}

function stackURL(cluster, namespace, name) {
  return `/api/clusters/${encodeURIComponent(cluster)}/stacks/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;
}

/** errorText reads an error answer: {"error": "..."} or plain text. */
async function errorText(r) {
  const body = await r.text().catch(() => '');
  try {
    const j = JSON.parse(body);
    if (j && j.error) return `${r.status}: ${j.error}`;
  } catch (e) {
    /* not JSON */
  }
  return `${r.status} ${r.statusText}${body ? ': ' + body.trim() : ''}`;
}

async function getJSON(url) {
  const r = await fetch(url, { headers: { Accept: 'application/json' }, cache: 'no-store' });
  if (!r.ok) throw new Error(await errorText(r));
  return r.json();
}

/**
 * debounce calls fn once calls stop for ms, and at least every maxWait while
 * they go on: a cluster that changes every 100 ms still refreshes its page.
 */
function debounce(fn, ms, maxWait = 1000) {
  let t = 0;
  let first = 0;
  return (...a) => {
    const now = Date.now();
    if (!first) first = now;
    clearTimeout(t);
    const wait = Math.max(0, Math.min(ms, first + maxWait - now));
    t = setTimeout(() => {
      first = 0;
      fn(...a);
    }, wait);
  };
}

function main() {
  return $('#main');
}

// ---------------------------------------------------------------- routes

/** parseRoute reads the hash: #/, #/stack/{cluster}/{namespace}/{name}, #/delivery, #/plan. */
export function parseRoute(hash) {
  const parts = hash.replace(/^#\/?/, '').split('/').filter((p, i) => p !== '' || i > 0);
  const dec = (p) => {
    try {
      return decodeURIComponent(p);
    } catch (e) {
      return p;
    }
  };
  if (parts[0] === 'stack' && parts.length === 4) {
    return { view: 'stack', cluster: dec(parts[1]), namespace: dec(parts[2]), name: dec(parts[3]) };
  }
  if (parts[0] === 'delivery') return { view: 'delivery' };
  if (parts[0] === 'plan') return { view: 'plan' };
  return { view: 'fleet' };
}

function onRoute() {
  const prev = state.route;
  state.route = parseRoute(location.hash);
  for (const a of $$('[data-nav]')) {
    const current = a.dataset.nav === state.route.view || (a.dataset.nav === 'fleet' && state.route.view === 'stack');
    if (current) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (!state.fleet) return; // drawn when the fleet arrives
  state.fetchSeq++;
  switch (state.route.view) {
    case 'stack':
      state.detail = null;
      state.actionNote = '';
      state.stackError = '';
      renderStackShell();
      loadStack();
      break;
    case 'delivery':
      renderDelivery();
      loadDelivery();
      break;
    case 'plan':
      renderPlan();
      refreshRepo();
      break;
    default:
      renderFleet();
      if (prev && prev.view !== 'fleet') focusCursor();
  }
  document.title = titleOf(state.route);
}

function titleOf(r) {
  switch (r.view) {
    case 'stack':
      return `${r.namespace}/${r.name} on ${r.cluster} \u00B7 Flotilla`;
    case 'delivery':
      return 'Delivery \u00B7 Flotilla';
    case 'plan':
      return 'Plan \u00B7 Flotilla';
    default:
      return 'Fleet \u00B7 Flotilla';
  }
}

// ---------------------------------------------------------------- live model

function setVersion() {
  document.body.dataset.version = String(state.fleet ? state.fleet.version : 0);
}

function setLive(live) {
  const el = $('#live');
  el.textContent = live ? 'live' : 'reconnecting';
  el.dataset.state = live ? 'live' : 'reconnecting';
}

function applyFleet(f) {
  if (!f || !Array.isArray(f.clusters)) return;
  const first = !state.fleet;
  state.fleet = f;
  setVersion();
  if (first) {
    onRoute();
    return;
  }
  switch (state.route.view) {
    case 'fleet':
      renderMatrix();
      break;
    case 'stack':
      refetchStack();
      break;
    case 'delivery':
      refetchDelivery();
      break;
    case 'plan':
      if (branchesChanged()) renderPlan();
      break;
  }
}

function applyCluster(c) {
  const f = state.fleet;
  if (!f || !c || !c.name) return;
  const i = f.clusters.findIndex((x) => x.name === c.name);
  if (i >= 0 && c.version < f.clusters[i].version) return; // older than what the page holds
  if (i >= 0) f.clusters[i] = c;
  else f.clusters.push(c);
  f.version = Math.max(f.version, c.version);
  setVersion();
  switch (state.route.view) {
    case 'fleet':
      updateClusterRow(c.name);
      break;
    case 'stack':
      if (state.route.cluster === c.name) refetchStack();
      break;
    case 'delivery':
      refetchDelivery();
      break;
  }
}

function connect() {
  if (!window.EventSource) return;
  const es = new EventSource('/api/events');
  es.onopen = () => setLive(true);
  es.onerror = () => {
    setLive(false); // EventSource reconnects by itself, unless the server refused the stream
    if (es.readyState === EventSource.CLOSED) setTimeout(connect, 2000);
  };
  es.addEventListener('fleet', (e) => {
    setLive(true);
    applyFleet(JSON.parse(e.data));
  });
  es.addEventListener('cluster', (e) => {
    setLive(true);
    applyCluster(JSON.parse(e.data));
  });
}

async function loadFleet() {
  try {
    const f = await getJSON('/api/fleet');
    if (!state.fleet) applyFleet(f); // the event stream may have been first
  } catch (err) {
    if (!state.fleet) main().innerHTML = `<p class="error" role="alert">Cannot read the fleet: ${esc(err.message)}</p>`;
  }
}

// ---------------------------------------------------------------- fleet matrix

const FILTERS = {
  all: { label: 'all', test: () => true },
  notready: { label: 'not ready', test: (s) => s.ready !== 'True' && !s.suspended },
  drifted: { label: 'drifted', test: (s) => s.driftLastHour > 0 },
  suspended: { label: 'suspended', test: (s) => !!s.suspended },
};

const indexes = new WeakMap();

/** stackOf finds a cluster's Stack by namespace/name. */
function stackOf(c, key) {
  let m = indexes.get(c);
  if (!m) {
    m = new Map((c.stacks || []).map((s) => [stackKey(s), s]));
    indexes.set(c, m);
  }
  return m.get(key);
}

/** columns is the union of every cluster's Stacks, sorted by namespace/name. */
function columns(f) {
  const set = new Set();
  for (const c of f.clusters) for (const s of c.stacks || []) set.add(stackKey(s));
  return Array.from(set).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** matrixView applies the search and the filter chip: the rows and columns to draw. */
function matrixView(f) {
  let rows = f.clusters;
  let cols = columns(f);
  const q = state.query.trim().toLowerCase();
  if (q) {
    const rm = rows.filter((c) => c.name.toLowerCase().includes(q));
    const cm = cols.filter((k) => k.toLowerCase().includes(q));
    if (rm.length === 0 && cm.length === 0) return { rows: [], cols: [] };
    if (rm.length) rows = rm;
    if (cm.length) cols = cm;
  }
  if (state.filter !== 'all') {
    const test = FILTERS[state.filter].test;
    const hit = (c, k) => {
      const s = stackOf(c, k);
      return !!s && test(s);
    };
    rows = rows.filter((c) => (state.filter === 'notready' && !c.reachable) || cols.some((k) => hit(c, k)));
    cols = cols.filter((k) => rows.some((c) => hit(c, k)));
  }
  return { rows, cols };
}

function summary(f) {
  let stacks = 0;
  let notReady = 0;
  let drifted = 0;
  let suspended = 0;
  for (const c of f.clusters) {
    for (const s of c.stacks || []) {
      stacks++;
      if (FILTERS.notready.test(s)) notReady++;
      if (s.driftLastHour > 0) drifted++;
      if (s.suspended) suspended++;
    }
  }
  const unreachable = f.clusters.filter((c) => !c.reachable).length;
  return { clusters: f.clusters.length, unreachable, stacks, notReady, drifted, suspended };
}

function summaryHTML(n) {
  const plural = (k, w) => `${k} ${w}${k === 1 ? '' : 's'}`;
  const un = n.unreachable ? ` <span class="badge fail"><span aria-hidden="true">\u26A0</span> ${n.unreachable} unreachable</span>` : ' (0 unreachable)';
  return `<strong>${plural(n.clusters, 'cluster')}</strong>${un} \u00B7 <strong>${plural(n.stacks, 'Stack')}</strong> \u00B7 ` +
    `<span class="${n.notReady ? 'text-fail' : ''}">${n.notReady} not ready</span> \u00B7 ` +
    `<span class="${n.drifted ? 'text-warn' : ''}">${n.drifted} drifted in the last hour</span>` +
    (n.suspended ? ` \u00B7 ${n.suspended} suspended` : '');
}

function renderFleet() {
  const m = main();
  m.innerHTML = `<section id="fleet" aria-labelledby="fleet-title">
  <div class="page-head">
    <h1 id="fleet-title">Fleet</h1>
    <p id="summary" class="summary" aria-live="polite"></p>
  </div>
  <div class="toolbar">
    <div class="chips" role="group" aria-label="Show Stacks">
      ${Object.entries(FILTERS).map(([k, v]) => `<button type="button" class="chip" data-filter="${k}" aria-pressed="${state.filter === k}">${esc(v.label)}<span class="count" data-count="${k}"></span></button>`).join('')}
    </div>
    <label class="search"><span class="visually-hidden">Search clusters and Stacks</span>
      <input id="search" type="search" placeholder="Search clusters and Stacks  ( / )" autocomplete="off" spellcheck="false" value="${esc(state.query)}">
    </label>
  </div>
  <div class="matrix-wrap">
    <table id="matrix" role="grid" aria-labelledby="fleet-title"></table>
  </div>
  <p id="matrix-empty" class="empty" hidden></p>
  <p class="hint">Arrow keys move between cells, Enter opens a Stack, <kbd>/</kbd> searches, <kbd>Esc</kbd> comes back here.</p>
</section>`;
  $('#search').addEventListener('beforeinput', (e) => {
    if (state.swallowSlash && e.data === '/') e.preventDefault();
    state.swallowSlash = false;
  });
  $('#search').addEventListener('input', (e) => {
    state.query = e.target.value;
    renderMatrix();
  });
  $('#search').addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && e.target.value) {
      e.stopPropagation();
      e.target.value = '';
      state.query = '';
      renderMatrix();
    } else if (e.key === 'ArrowDown' || e.key === 'Enter') {
      e.preventDefault();
      focusCursor();
    }
  });
  for (const b of $$('.chip', m)) {
    b.addEventListener('click', () => {
      state.filter = b.dataset.filter;
      for (const o of $$('.chip', m)) o.setAttribute('aria-pressed', String(o === b));
      renderMatrix();
    });
  }
  const t = $('#matrix');
  t.addEventListener('keydown', onMatrixKey);
  t.addEventListener('focusin', onMatrixFocus);
  t.addEventListener('click', onMatrixClick);
  renderMatrix();
  if (state.wantSearch) {
    state.wantSearch = false;
    $('#search').focus();
  }
}

function renderSummary() {
  const n = summary(state.fleet);
  const el = $('#summary');
  if (el) el.innerHTML = summaryHTML(n);
  const counts = { all: n.stacks, notready: n.notReady, drifted: n.drifted, suspended: n.suspended };
  for (const s of $$('[data-count]')) s.textContent = ` ${counts[s.dataset.count]}`;
}

/** renderMatrix draws the whole table with one innerHTML. */
function renderMatrix() {
  const t = $('#matrix');
  if (!t || !state.fleet) return;
  renderSummary();
  const hadFocus = t.contains(document.activeElement);
  const v = matrixView(state.fleet);
  state.shape = shapeOf(v);
  const head = `<thead><tr><th scope="col" class="corner">Cluster</th>${v.cols.map(colHeadHTML).join('')}</tr></thead>`;
  t.innerHTML = `${head}<tbody>${v.rows.map((c) => rowHTML(c, v.cols)).join('')}</tbody>`;
  const empty = $('#matrix-empty');
  empty.hidden = v.rows.length > 0;
  empty.textContent = state.fleet.clusters.length === 0 ? 'No clusters in the kubeconfig.' : 'Nothing matches the search and filter.';
  ensureTabStop();
  if (hadFocus) focusCursor();
}

function shapeOf(v) {
  return JSON.stringify([v.rows.map((c) => c.name), v.cols]);
}

function colHeadHTML(key) {
  const i = key.indexOf('/');
  return `<th scope="col" data-col="${esc(key)}" title="${esc(key)}"><span class="ns">${esc(key.slice(0, i + 1))}</span><span class="nm">${esc(key.slice(i + 1))}</span></th>`;
}

function clusterHeadHTML(c) {
  let extra = '';
  if (!c.reachable) {
    extra = `<span class="badge fail unreachable"><span aria-hidden="true">\u26A0</span> unreachable</span>` +
      `<span class="cerr" title="${esc(c.error)}">${esc(c.error || 'the API server does not answer')}</span>` +
      (c.lastSeen ? `<span class="cseen">last seen ${timeHTML(c.lastSeen, 'ago plain')}</span>` : '<span class="cseen">never seen</span>');
  } else if (c.error) {
    extra = `<span class="badge warn"><span aria-hidden="true">\u26A0</span> partial</span><span class="cerr" title="${esc(c.error)}">${esc(c.error)}</span>`;
  }
  return `<th scope="row" class="cluster"><span class="cname">${esc(c.name)}</span><span class="server">${esc(c.server)}</span>${extra}</th>`;
}

function rowHTML(c, cols) {
  const cells = cols.map((k) => cellHTML(c, k)).join('');
  return `<tr data-cluster="${esc(c.name)}" data-reachable="${c.reachable ? 'true' : 'false'}"${c.reachable ? '' : ' class="unreachable"'}>${clusterHeadHTML(c)}${cells}</tr>`;
}

function cellHTML(c, key) {
  const tab = state.cursor && state.cursor.cluster === c.name && state.cursor.col === key ? '0' : '-1';
  const s = stackOf(c, key);
  if (!s) {
    return `<td class="absent" data-col="${esc(key)}" tabindex="${tab}" aria-label="${esc(key)}: no such Stack on ${esc(c.name)}"><span aria-hidden="true">\u2013</span></td>`;
  }
  const st = status(s);
  const sha = shortSha(s.revision);
  const dim = state.filter !== 'all' && !FILTERS[state.filter].test(s) ? ' muted' : '';
  const label = [`${key} on ${c.name}: ${st.word}`];
  if (sha) label.push(`revision ${sha}`);
  if (s.behind > 0) label.push(`${s.behind} behind`);
  if (s.driftLastHour > 0) label.push(`${s.driftLastHour} drift in the last hour`);
  if (s.lastChange) label.push(`changed ${ago(s.lastChange)}`);
  if (!c.reachable) label.push('stale: the cluster is unreachable');
  const title = [s.reason, s.message].filter(Boolean).join(': ');
  return `<td class="cell st-${st.cls}${dim}" data-col="${esc(key)}" data-stack="${esc(key)}" data-ready="${esc(s.ready || 'Unknown')}" ` +
    `data-suspended="${s.suspended ? 'true' : 'false'}" data-drift="${Number(s.driftLastHour) || 0}" data-revision="${esc(sha)}" ` +
    `tabindex="${tab}" aria-label="${esc(label.join(', '))}"${title ? ` title="${esc(title)}"` : ''}>` +
    `<span class="l1"><span class="glyph" aria-hidden="true">${st.glyph}</span><span class="sha">${esc(sha || '\u2014')}</span>` +
    (s.behind > 0 ? `<span class="behind">${s.behind} behind</span>` : '') +
    `</span><span class="l2">` +
    (s.driftLastHour > 0 ? `<span class="drift"><span aria-hidden="true">\u21C4</span> ${s.driftLastHour} drift</span>` : '') +
    (s.lastChange ? timeHTML(s.lastChange) : '') +
    `</span></td>`;
}

/** updateClusterRow redraws one cluster's row, or the table when its shape changed. */
function updateClusterRow(name) {
  const t = $('#matrix');
  if (!t) return;
  const v = matrixView(state.fleet);
  if (shapeOf(v) !== state.shape) {
    renderMatrix();
    return;
  }
  renderSummary();
  const c = state.fleet.clusters.find((x) => x.name === name);
  const old = $$('tbody tr', t).find((tr) => tr.dataset.cluster === name);
  if (!c || !old) return;
  const active = document.activeElement;
  const focusCol = old.contains(active) && active.dataset ? active.dataset.col : null;
  const tmp = document.createElement('tbody');
  tmp.innerHTML = rowHTML(c, v.cols);
  const tr = tmp.firstElementChild;
  old.replaceWith(tr);
  ensureTabStop();
  if (focusCol != null) {
    const cell = $$('td', tr).find((td) => td.dataset.col === focusCol);
    if (cell) cell.focus();
  }
}

function ensureTabStop() {
  const t = $('#matrix');
  if (!t || $('td[tabindex="0"]', t)) return;
  const first = $('tbody td', t);
  if (first) {
    first.tabIndex = 0;
    state.cursor = cursorOf(first);
  }
}

function cursorOf(td) {
  return { cluster: td.closest('tr').dataset.cluster, col: td.dataset.col };
}

function focusCursor() {
  const t = $('#matrix');
  if (!t) return;
  const td = $('td[tabindex="0"]', t);
  if (td) td.focus();
}

function onMatrixFocus(e) {
  const td = e.target.closest && e.target.closest('td');
  if (!td) return;
  for (const o of $$('td[tabindex="0"]', e.currentTarget)) if (o !== td) o.tabIndex = -1;
  td.tabIndex = 0;
  state.cursor = cursorOf(td);
}

function openCell(td) {
  if (!td || !td.dataset.stack) return;
  const cluster = td.closest('tr').dataset.cluster;
  const key = td.dataset.stack;
  const i = key.indexOf('/');
  location.hash = stackHref(cluster, key.slice(0, i), key.slice(i + 1));
}

function onMatrixClick(e) {
  const td = e.target.closest('td');
  if (td) openCell(td);
}

function onMatrixKey(e) {
  const td = e.target.closest('td');
  if (!td) return;
  const tr = td.parentElement;
  const rows = $$('tbody tr', e.currentTarget);
  const r = rows.indexOf(tr);
  const cells = $$('td', tr);
  const i = cells.indexOf(td);
  let next = null;
  switch (e.key) {
    case 'ArrowRight':
      next = cells[i + 1];
      break;
    case 'ArrowLeft':
      next = cells[i - 1];
      break;
    case 'ArrowDown':
      next = rows[r + 1] && $$('td', rows[r + 1])[i];
      break;
    case 'ArrowUp':
      next = rows[r - 1] && $$('td', rows[r - 1])[i];
      if (!next && r === 0) {
        e.preventDefault();
        $('#search').focus();
        return;
      }
      break;
    case 'Home':
      next = e.ctrlKey ? $('tbody td', e.currentTarget) : cells[0];
      break;
    case 'End':
      next = e.ctrlKey ? $$('td', rows[rows.length - 1]).pop() : cells[cells.length - 1];
      break;
    case 'Enter':
    case ' ':
      e.preventDefault();
      openCell(td);
      return;
    default:
      return;
  }
  e.preventDefault();
  if (next) next.focus();
}

// ---------------------------------------------------------------- Stack page

function renderStackShell() {
  const r = state.route;
  main().innerHTML = `<section id="stack" data-cluster="${esc(r.cluster)}" data-namespace="${esc(r.namespace)}" data-name="${esc(r.name)}" aria-labelledby="stack-title" aria-busy="true">
  <nav class="crumbs" aria-label="Breadcrumb"><a href="#/">Fleet</a> <span aria-hidden="true">\u203A</span> ${esc(r.cluster)} <span aria-hidden="true">\u203A</span> ${esc(r.namespace)}/${esc(r.name)}</nav>
  <h1 id="stack-title">${esc(r.namespace)}/<strong>${esc(r.name)}</strong> <span class="on">on ${esc(r.cluster)}</span></h1>
  <div id="stack-body"><p class="loading">Loading&hellip;</p></div>
</section>`;
}

const refetchStack = debounce(() => loadStack(), 200);

async function loadStack() {
  const r = state.route;
  if (r.view !== 'stack') return;
  const seq = state.fetchSeq;
  let d;
  let err = null;
  try {
    d = await getJSON(stackURL(r.cluster, r.namespace, r.name));
  } catch (e) {
    err = e;
  }
  if (seq !== state.fetchSeq || state.route !== r) return; // the user moved on
  const body = $('#stack-body');
  if (!body) return;
  $('#stack').removeAttribute('aria-busy');
  state.stackError = err ? `<p class="error" role="alert">Cannot read this Stack: ${esc(err.message)}${state.detail ? ' (the last answer stays below)' : ''}</p>` : '';
  if (err && !state.detail) {
    body.innerHTML = state.stackError;
    return;
  }
  if (d) state.detail = d;
  renderStackBody(state.detail); // again on an error: the cluster may have become unreachable
}

function clusterOf(name) {
  return state.fleet && state.fleet.clusters.find((c) => c.name === name);
}

function renderStackBody(d) {
  const body = $('#stack-body');
  const s = d.stack || {};
  const st = status(s);
  const c = clusterOf(d.cluster);
  const heading = $('#stack-title');
  heading.innerHTML = `<span class="glyph st-${st.cls}" aria-hidden="true">${st.glyph}</span> ${esc(s.namespace)}/<strong>${esc(s.name)}</strong> <span class="on">on ${esc(d.cluster)}</span>`;
  const stale = c && !c.reachable ? `<p class="banner fail" role="status"><span aria-hidden="true">\u26A0</span> ${esc(d.cluster)} is unreachable: what follows is the last state seen${c.lastSeen ? ' ' + timeHTML(c.lastSeen, 'ago plain') : ''}.</p>` : '';
  const objects = (d.tree || []).reduce((n, ns) => n + (ns.objects || []).length, 0);
  body.innerHTML = `${stale}
  <div class="stack-head">
    <p class="status-line">${badge('st-' + st.cls, st.glyph, st.word)}${s.reason ? ` <span class="reason">${esc(s.reason)}</span>` : ''}${s.message ? ` <span class="message">${esc(s.message)}</span>` : ''}</p>
    ${revisionHTML(d)}
    <p class="source">Source <code>${esc(d.source)}</code>${d.path ? `, path <code>${esc(d.path)}</code>` : ''}${s.lastChange ? ` \u00B7 Ready changed ${timeHTML(s.lastChange)}` : ''}</p>
    ${actionsHTML(d)}
    <div id="stack-error">${state.stackError}${state.actionNote}</div>
  </div>
  <div class="panels">
    <section class="panel" aria-labelledby="h-cond"><h2 id="h-cond">Conditions</h2><ul id="conditions" class="rows">${(d.conditions || []).map(conditionHTML).join('') || '<li class="none">none</li>'}</ul></section>
    <section class="panel" aria-labelledby="h-deps"><h2 id="h-deps">Depends on</h2><ul id="depends" class="rows">${dependsHTML(d)}</ul></section>
    <section class="panel wide" aria-labelledby="h-tree"><h2 id="h-tree">Inventory <span class="count">${objects} object${objects === 1 ? '' : 's'}</span></h2><div id="tree">${treeHTML(d.tree || [])}</div></section>
    <section class="panel wide" aria-labelledby="h-drift"><h2 id="h-drift">Drift log</h2>${driftHTML(d.drift || [])}</section>
    <section class="panel wide" aria-labelledby="h-events"><h2 id="h-events">Events</h2>${eventsHTML(d.events || [])}</section>
  </div>`;
  for (const det of $$('#tree details', body)) {
    det.addEventListener('toggle', () => {
      const key = treeKey(det.dataset.namespace);
      if (det.open) state.closedNamespaces.delete(key);
      else state.closedNamespaces.add(key);
    });
  }
  for (const b of $$('button[data-action]', body)) b.addEventListener('click', () => confirmAction(d, b.dataset.action));
  refreshTimes();
}

function revisionHTML(d) {
  const s = d.stack || {};
  const sha = shortSha(s.revision);
  if (!sha) return '<p class="revision">No revision applied yet.</p>';
  const behind = s.behind > 0 ? ` <span class="badge warn">${s.behind} behind</span>` : s.behind === 0 ? ' <span class="badge ok"><span aria-hidden="true">\u2713</span> up to date</span>' : '';
  let commit = '';
  if (d.commit) {
    const lines = String(d.commit.message || '').split('\n');
    const rest = lines.slice(1).join('\n').trim();
    commit = `<div class="commit"><p class="subject">${esc(lines[0])}</p>${rest ? `<p class="body">${esc(rest)}</p>` : ''}` +
      `<p class="meta">${esc(d.commit.author)} \u00B7 ${timeHTML(d.commit.time)}</p></div>`;
  }
  return `<p class="revision">Revision <code title="${esc(s.revision)}">${esc(sha)}</code>${behind}</p>${commit}`;
}

function actionsHTML(d) {
  if (!state.fleet || !state.fleet.actions) return '';
  const s = d.stack || {};
  const toggle = s.suspended ? 'resume' : 'suspend';
  return `<div class="actions" role="group" aria-label="Actions">
    <button type="button" data-action="reconcile">Reconcile now</button>
    <button type="button" data-action="${toggle}">${toggle === 'resume' ? 'Resume' : 'Suspend'}</button>
  </div>`;
}

/** ABNORMAL are condition types that are bad when True (Reconciling is in progress). */
const ABNORMAL = { Stalled: 'fail', Reconciling: 'wait' };

function conditionBadge(c) {
  const bad = ABNORMAL[c.type];
  if (!bad) return badge(readyClass(c.status), { True: '\u2713', False: '\u2715' }[c.status] || '\u2026', c.status);
  if (c.status === 'True') return badge(bad, bad === 'fail' ? '\u2715' : '\u21BB', c.status);
  return badge('neutral', '\u2022', c.status);
}

function conditionHTML(c) {
  return `<li data-type="${esc(c.type)}" data-status="${esc(c.status)}">` +
    `<span class="ctype">${esc(c.type)}</span>${conditionBadge(c)}` +
    `<span class="reason">${esc(c.reason)}</span>${timeHTML(c.lastTransitionTime)}` +
    (c.message ? `<span class="message">${esc(c.message)}</span>` : '') + '</li>';
}

function dependsHTML(d) {
  const deps = d.dependsOn || [];
  if (deps.length === 0) return '<li class="none">nothing</li>';
  return deps.map((x) => `<li data-namespace="${esc(x.namespace)}" data-name="${esc(x.name)}" data-ready="${esc(x.ready)}">` +
    `<a href="${stackHref(d.cluster, x.namespace, x.name)}">${esc(x.namespace)}/${esc(x.name)}</a>${readyBadge(x.ready)}</li>`).join('');
}

function objectName(o) {
  const gk = o.group ? `${o.kind}.${o.group}` : o.kind;
  return `<span class="kind" title="${esc((o.group ? o.group + '/' : '') + o.version)}">${esc(gk)}</span> <span class="oname">${esc(o.name)}</span>`;
}

/** treeKey names a namespace of this Stack's inventory, to remember it collapsed. */
function treeKey(namespace) {
  const r = state.route;
  return JSON.stringify([r.cluster, r.namespace, r.name, namespace]);
}

function treeHTML(tree) {
  if (tree.length === 0) return '<p class="none">The inventory is empty.</p>';
  return tree.map((ns) => {
    const objs = ns.objects || [];
    const bad = objs.filter((o) => o.health !== 'Current').length;
    const label = ns.namespace || 'cluster-scoped';
    const open = state.closedNamespaces.has(treeKey(ns.namespace)) ? '' : ' open';
    return `<details data-namespace="${esc(ns.namespace)}"${open}><summary><span class="nsname">${esc(label)}</span> <span class="count">${objs.length}</span>` +
      (bad ? ` <span class="badge warn">${bad} not current</span>` : '') + `</summary><ul>` +
      objs.map((o) => {
        const h = HEALTH[o.health] || HEALTH.Unknown;
        return `<li data-health="${esc(o.health)}" data-kind="${esc(o.kind)}" data-name="${esc(o.name)}">${badge(h.cls, h.glyph, o.health || 'Unknown')} ${objectName(o)}` +
          (o.message ? `<span class="message">${esc(o.message)}</span>` : '') + '</li>';
      }).join('') + '</ul></details>';
  }).join('');
}

function driftHTML(drift) {
  if (drift.length === 0) return '<ul id="drift" class="log"></ul><p class="none">No drift recorded.</p>';
  return `<div class="log-head drift-grid" aria-hidden="true"><span>when</span><span>object</span><span>fields</span><span>who</span><span>action</span></div>` +
    `<ul id="drift" class="log">` + drift.map((x) => {
      const fields = x.fields || [];
      return `<li class="drift-grid" data-manager="${esc(x.manager)}" data-object="${esc(x.object)}" data-fields="${esc(fields.join(','))}" data-action="${esc(x.action)}">` +
        `<span>${timeHTML(x.time)}</span><span class="obj">${esc(x.object)}</span>` +
        `<span class="fields">${fields.map((f) => `<code>${esc(f)}</code>`).join(' ') || '\u2014'}</span>` +
        `<span class="who">${x.manager ? esc(x.manager) : '<span class="none">unknown</span>'}</span>` +
        `<span class="action">${esc(x.action)}</span></li>`;
    }).join('') + '</ul>';
}

function eventsHTML(events) {
  if (events.length === 0) return '<ul id="events" class="log"></ul><p class="none">No events (Kubernetes keeps them for an hour).</p>';
  return `<div class="log-head events-grid" aria-hidden="true"><span>when</span><span>type</span><span>reason</span><span>message</span><span>count</span></div>` +
    `<ul id="events" class="log">` + events.map((e) => {
      const warn = e.type === 'Warning';
      return `<li class="events-grid" data-type="${esc(e.type)}" data-reason="${esc(e.reason)}"><span>${timeHTML(e.time)}</span>` +
        `<span>${badge(warn ? 'warn' : 'neutral', warn ? '\u26A0' : '\u2139', e.type)}</span><span class="reason">${esc(e.reason)}</span>` +
        `<span class="message">${esc(e.message)}</span><span class="num" aria-label="count">\u00D7${esc(e.count)}</span></li>`;
    }).join('') + '</ul>';
}

// ---------------------------------------------------------------- actions

const ACTION_TEXT = {
  reconcile: 'The agent there applies the latest revision of its source now, without waiting for its interval.',
  suspend: 'The agent there stops applying changes and correcting drift for this Stack until it is resumed.',
  resume: 'The agent there applies this Stack again and corrects drift.',
};

function confirmAction(d, action) {
  const s = d.stack;
  const dlg = $('#confirm');
  $('#confirm-title').textContent = `${action[0].toUpperCase()}${action.slice(1)} ${s.namespace}/${s.name}?`;
  $('#confirm-text').textContent = `${action[0].toUpperCase()}${action.slice(1)} the Stack ${s.namespace}/${s.name} on cluster ${d.cluster}. ${ACTION_TEXT[action]}`;
  $('#confirm-ok').textContent = action[0].toUpperCase() + action.slice(1);
  dlg.returnValue = '';
  dlg.onclose = () => {
    if (dlg.returnValue === 'ok') runAction(d.cluster, s.namespace, s.name, action);
  };
  dlg.showModal();
  $('#confirm-cancel').focus();
}

async function runAction(cluster, namespace, name, action) {
  const buttons = $$('button[data-action]');
  buttons.forEach((b) => (b.disabled = true));
  try {
    const r = await fetch(`${stackURL(cluster, namespace, name)}/${action}`, {
      method: 'POST',
      headers: { 'X-Flotilla-Token': state.fleet.token || '' },
    });
    if (!r.ok) throw new Error(await errorText(r));
    state.actionNote = `<p class="note" role="status">${esc(action)} requested on ${esc(cluster)}.</p>`;
    refetchStack();
  } catch (e) {
    state.actionNote = `<p class="error" role="alert">${esc(action)} failed: ${esc(e.message)}</p>`;
  } finally {
    const now = $('#stack-error');
    if (now) now.innerHTML = state.stackError + state.actionNote;
    buttons.forEach((b) => (b.disabled = false));
  }
}

// ---------------------------------------------------------------- delivery

const refetchDelivery = debounce(() => loadDelivery(), 200);

function renderDelivery() {
  main().innerHTML = `<section id="delivery" aria-labelledby="delivery-title" aria-busy="true">
  <h1 id="delivery-title">Delivery</h1>
  <div id="delivery-body"><p class="loading">Loading&hellip;</p></div>
</section>`;
  if (state.delivery) renderDeliveryBody(state.delivery);
}

async function loadDelivery() {
  const seq = state.fetchSeq;
  try {
    const d = await getJSON('/api/delivery');
    if (seq !== state.fetchSeq || state.route.view !== 'delivery') return;
    state.delivery = d;
    renderDeliveryBody(d);
  } catch (e) {
    if (seq !== state.fetchSeq) return;
    const b = $('#delivery-body');
    if (b) b.innerHTML = `<p class="error" role="alert">Cannot read delivery: ${esc(e.message)}</p>`;
  }
}

function renderDeliveryBody(d) {
  const b = $('#delivery-body');
  if (!b) return;
  $('#delivery').removeAttribute('aria-busy');
  b.innerHTML = `
  <section aria-labelledby="h-canaries"><h2 id="h-canaries">Canaries</h2>${canariesHTML(d.canaries || [])}</section>
  <section aria-labelledby="h-policies"><h2 id="h-policies">Image policies</h2>${policiesHTML(d.imagePolicies || [])}</section>
  <section aria-labelledby="h-updates"><h2 id="h-updates">Image updates</h2>${updatesHTML(d.imageUpdates || [])}</section>`;
  refreshTimes();
}

const PHASE = {
  Succeeded: 'ok', Promoting: 'wait', Finalising: 'wait', Progressing: 'wait', Waiting: 'neutral',
  Initialized: 'neutral', Initializing: 'neutral', Failed: 'fail', Terminating: 'neutral', Terminated: 'neutral',
};
const PHASE_GLYPH = { ok: '\u2713', wait: '\u21BB', fail: '\u2715', neutral: '\u2022' };

function phaseBadge(p) {
  const cls = PHASE[p] || 'neutral';
  return badge(cls, PHASE_GLYPH[cls], p || 'unknown');
}

/** sparkline draws the weights as a small inline SVG. */
export function sparkline(history) {
  const pts = (history || []).map((h) => Number(h.weight) || 0);
  if (pts.length < 2) return '';
  const w = 96;
  const h = 24;
  const top = Math.max(100, ...pts);
  const xy = pts.map((p, i) => `${((i / (pts.length - 1)) * (w - 4) + 2).toFixed(1)},${(h - 2 - (p / top) * (h - 4)).toFixed(1)}`);
  const last = xy[xy.length - 1].split(',');
  return `<svg class="spark" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="weight over time: ${pts.join(', ')}">` +
    `<polyline fill="none" stroke="currentColor" stroke-width="1.5" points="${xy.join(' ')}"/>` +
    `<circle cx="${last[0]}" cy="${last[1]}" r="2.5" fill="currentColor"/></svg>`;
}

function table(cls, heads, rows, empty) {
  if (rows.length === 0) return `<p class="none">${esc(empty)}</p>`;
  return `<div class="table-wrap"><table class="${cls}"><thead><tr>${heads.map((h) => `<th scope="col">${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table></div>`;
}

function canariesHTML(list) {
  const rows = list.map((c) => {
    const metrics = (c.metrics || []).map((m) => `<li class="${m.ok ? 'text-ok' : 'text-fail'}"><span aria-hidden="true">${m.ok ? '\u2713' : '\u2715'}</span> ` +
      `<span class="visually-hidden">${m.ok ? 'pass' : 'fail'}</span>${esc(m.name)} <strong>${esc(m.value || '\u2014')}</strong>` +
      (m.message ? ` <span class="message">${esc(m.message)}</span>` : '') + '</li>').join('');
    return `<tr class="canary" data-cluster="${esc(c.cluster)}" data-phase="${esc(c.phase)}" data-weight="${Number(c.weight) || 0}">` +
      `<td>${esc(c.cluster)}</td><th scope="row">${esc(c.namespace)}/${esc(c.name)}${(c.images || []).map((i) => `<span class="sub">${esc(i)}</span>`).join('')}</th>` +
      `<td>${phaseBadge(c.phase)}${c.message ? `<span class="sub">${esc(c.message)}</span>` : ''}</td>` +
      `<td class="weight"><span class="num">${Number(c.weight) || 0}%</span> ${sparkline(c.history)}</td>` +
      `<td class="num${c.failedChecks ? ' text-fail' : ''}">${Number(c.failedChecks) || 0}</td>` +
      `<td>${metrics ? `<ul class="metrics">${metrics}</ul>` : '\u2014'}</td></tr>`;
  });
  return table('data canaries', ['cluster', 'canary', 'phase', 'weight', 'failed checks', 'metrics'], rows, 'No canaries in any cluster.');
}

function policiesHTML(list) {
  const rows = list.map((p) => `<tr class="image-policy" data-cluster="${esc(p.cluster)}" data-tag="${esc(p.tag)}">` +
    `<td>${esc(p.cluster)}</td><th scope="row">${esc(p.namespace)}/${esc(p.name)}</th>` +
    `<td>${p.tag ? `<code>${esc(p.image)}:<strong>${esc(p.tag)}</strong></code>` : `<code>${esc(p.image)}</code> ${readyBadge(p.ready)}`}` +
    (p.message ? `<span class="sub">${esc(p.message)}</span>` : '') + '</td>' +
    `<td>${p.previous ? `<code>${esc(p.previous)}</code>` : '\u2014'}</td>` +
    `<td>${(p.quarantined || []).map((q) => `<code class="quarantined">${esc(q)}</code>`).join(' ') || '\u2014'}</td></tr>`);
  return table('data policies', ['cluster', 'policy', 'image:tag', 'previous', 'quarantined'], rows, 'No image policies in any cluster.');
}

function updatesHTML(list) {
  const rows = list.map((u) => `<tr class="image-update" data-cluster="${esc(u.cluster)}" data-commit="${esc(u.lastCommit)}">` +
    `<td>${esc(u.cluster)}</td><th scope="row">${esc(u.namespace)}/${esc(u.name)}</th>` +
    `<td>${u.lastCommit ? `<code title="${esc(u.lastCommit)}">${esc(u.lastCommit.slice(0, 7))}</code> ${esc(u.commitMessage)}` : '\u2014'}` +
    (u.ready !== 'True' ? ` ${readyBadge(u.ready)}` : '') + (u.message ? `<span class="sub">${esc(u.message)}</span>` : '') + '</td>' +
    `<td>${u.lastPush ? timeHTML(u.lastPush) : 'never'}</td></tr>`);
  return table('data updates', ['cluster', 'update', 'last commit', 'when'], rows, 'No image updates in any cluster.');
}

// ---------------------------------------------------------------- plan

/** refreshRepo rereads the fleet for its repository: branches pushed since the page loaded. */
async function refreshRepo() {
  try {
    const f = await getJSON('/api/fleet');
    if (!state.fleet || state.route.view !== 'plan') return;
    state.fleet.repo = f.repo;
    if (branchesChanged()) renderPlan();
  } catch (e) {
    /* the plan page keeps the branches it has */
  }
}

function branchesChanged() {
  const sel = $('#plan-head');
  const want = (state.fleet.repo && state.fleet.repo.branches) || [];
  if (!sel) return want.length > 0 || !!$('#plan-form') !== !!state.fleet.repo;
  return JSON.stringify(Array.from(sel.options).map((o) => o.value)) !== JSON.stringify(want);
}

function renderPlan() {
  const repo = state.fleet.repo;
  let form;
  if (!repo) {
    form = '<p class="note">No repository: start the dashboard with --repo DIR to plan branches.</p>';
  } else if (!repo.branches || repo.branches.length === 0) {
    form = `<p class="note">The repository has no branch other than <code>${esc(repo.branch)}</code> to plan.</p>`;
  } else {
    const head = repo.branches.includes(state.planHead) ? state.planHead : repo.branches[0];
    form = `<form id="plan-form" class="plan-form">
      <label for="plan-head">Branch</label>
      <select id="plan-head">${repo.branches.map((b) => `<option value="${esc(b)}"${b === head ? ' selected' : ''}>${esc(b)}</option>`).join('')}</select>
      <span>against <code>${esc(repo.branch)}</code></span>
      <button id="plan-run" type="submit" class="primary">Plan</button>
    </form>`;
  }
  main().innerHTML = `<section id="plan" aria-labelledby="plan-title">
  <h1 id="plan-title">Plan</h1>
  <p class="lead">What a branch would change in every cluster, rendered from the repository: the blast radius before merging.</p>
  ${form}
  <div id="plan-result" aria-live="polite"></div>
</section>`;
  const f = $('#plan-form');
  if (f) {
    $('#plan-head').addEventListener('change', (e) => (state.planHead = e.target.value));
    f.addEventListener('submit', (e) => {
      e.preventDefault();
      runPlan($('#plan-head').value);
    });
  }
  drawPlanResult();
}

async function runPlan(head) {
  state.planHead = head;
  state.planBusy = true;
  drawPlanResult();
  let p;
  try {
    p = await getJSON(`/api/plan?head=${encodeURIComponent(head)}`);
  } catch (e) {
    p = { head, error: e.message };
  }
  state.planBusy = false;
  state.plan = p;
  drawPlanResult();
}

function drawPlanResult() {
  const box = $('#plan-result');
  if (!box) return;
  const btn = $('#plan-run');
  if (btn) btn.disabled = state.planBusy;
  if (state.planBusy) {
    box.setAttribute('aria-busy', 'true');
    box.innerHTML = `<p class="loading">Planning ${esc(state.planHead)}&hellip; (renders every cluster at both revisions)</p>`;
    return;
  }
  box.removeAttribute('aria-busy');
  const p = state.plan;
  if (!p) {
    box.innerHTML = '';
    return;
  }
  if (p.error) {
    box.innerHTML = `<p class="error" role="alert">Cannot plan ${esc(p.head)}: ${esc(p.error)}</p>`;
    return;
  }
  box.innerHTML = planHTML(p);
}

/** shortRev shortens a full commit hash; a branch name stays as it is. */
function shortRev(r) {
  return /^[0-9a-f]{40}$/.test(r || '') ? r.slice(0, 7) : r || '';
}

/** revHTML is a plan's side: what was asked (a branch, a hash) and the commit it resolved to. */
function revHTML(asked, r) {
  const name = (r && r.name) || '';
  const short = shortRev(asked);
  let h = `<code title="${esc(asked)}">${esc(short || name)}</code>`;
  if (name && name !== short) h += ` at <code>${esc(name)}</code>`;
  const d = r && r.description;
  if (d && d !== name && d !== asked && d !== short) h += ` (${esc(d)})`;
  return h;
}

/** planHTML presents a fleet.Result as the CLI's markdown report does. */
export function planHTML(p) {
  const res = p.result || { clusters: [], warnings: [] };
  const clusters = res.clusters || [];
  const changed = clusters.filter((c) => c.status === 'changed').length;
  const failed = clusters.filter((c) => c.status === 'failed').length;
  const unchanged = clusters.length - changed - failed;
  const warnings = (res.warnings || []).concat(...clusters.map((c) => c.warnings || []));
  const failures = [].concat(...clusters.map((c) => c.failures || []));
  let h = `<p class="headline" data-changed="${changed + failed}" data-clusters="${clusters.length}"><strong>${changed + failed} of ${clusters.length} clusters change</strong>` +
    (failed ? ` <span class="badge fail"><span aria-hidden="true">\u2715</span> ${failed} would fail to render</span>` : '') + `, ${unchanged} unchanged</p>` +
    `<p class="revs">Base ${revHTML(p.base, res.base)} \u2192 head ${revHTML(p.head, res.head)}</p>`;
  if (warnings.length) {
    h += `<section class="panel warn-panel" aria-labelledby="h-warn"><h2 id="h-warn">Warnings (${warnings.length})</h2><ul class="warnings">` +
      warnings.map((w) => `<li data-kind="${esc(w.kind)}"><span aria-hidden="true">\u26A0</span> <span class="badge warn">${esc(w.kind)}</span> ` +
        `${w.cluster ? esc(w.cluster) + (w.stack ? ' / ' + esc(w.stack) : '') + ': ' : ''}${esc(w.message)}</li>`).join('') + '</ul></section>';
  }
  if (failures.length) {
    h += `<section class="panel fail-panel" aria-labelledby="h-fail"><h2 id="h-fail">${failed} of ${clusters.length} clusters would fail to render</h2><ul class="failures">` +
      failures.map((f) => `<li><span aria-hidden="true">\u2715</span> ${esc(f.cluster)} / ${esc(f.stack)}: ${esc(f.message)}` +
        (f.path ? ` <code>${esc(f.path)}${f.line ? ':' + esc(f.line) : ''}</code>` : '') + '</li>').join('') + '</ul></section>';
  }
  const quiet = clusters.filter((c) => c.status === 'unchanged');
  h += clusters.filter((c) => c.status !== 'unchanged').map(planClusterHTML).join('');
  if (quiet.length) {
    h += `<p class="unchanged">Unchanged: ${quiet.map((c) => `<span class="plan-cluster" data-cluster="${esc(c.name)}" data-status="unchanged">${esc(c.name)}</span>`).join(', ')}</p>`;
  }
  return h;
}

const STACK_NOTE = {
  added: 'new Stack', removed: 'Stack removed', failed: 'does not render', 'not-planned': 'not planned', 'cannot-plan': 'cannot plan',
};

function planClusterHTML(c) {
  const stacks = (c.stacks || []).filter((s) => s.status !== 'unchanged');
  const n = { added: 0, changed: 0, removed: 0 };
  for (const s of stacks) {
    n.added += (s.added || []).length;
    n.changed += (s.changed || []).length;
    n.removed += (s.removed || []).length;
  }
  const cls = c.status === 'failed' ? 'fail' : 'warn';
  return `<details class="plan-cluster" data-cluster="${esc(c.name)}" data-status="${esc(c.status)}" open>` +
    `<summary><span class="cname">${esc(c.name)}</span> ${badge(cls, c.status === 'failed' ? '\u2715' : '~', c.status)} ` +
    `<span class="counts"><span class="add">+${n.added}</span> <span class="chg">~${n.changed}</span> <span class="del">\u2212${n.removed}</span></span></summary>` +
    stacks.map(planStackHTML).join('') + '</details>';
}

function planStackHTML(s) {
  const note = STACK_NOTE[s.status] ? `: ${STACK_NOTE[s.status]}${s.reason ? ', ' + s.reason : ''}` : '';
  const lines = [];
  for (const o of s.added || []) lines.push(`<li class="add" data-op="added"><span aria-hidden="true">+</span> <span class="visually-hidden">added</span>${esc(refText(o))}</li>`);
  for (const ch of s.changed || []) {
    const fields = (ch.fields || []).map((f) => `<li>${fieldHTML(f)}</li>`).join('');
    lines.push(`<li class="chg" data-op="changed"><span aria-hidden="true">~</span> <span class="visually-hidden">changed</span>${esc(refText(ch.object))}${fields ? `<ul class="fields">${fields}</ul>` : ''}</li>`);
  }
  for (const o of s.removed || []) lines.push(`<li class="del" data-op="removed"><span aria-hidden="true">\u2212</span> <span class="visually-hidden">removed</span>${esc(refText(o))}</li>`);
  return `<div class="plan-stack" data-stack="${esc(s.namespace)}/${esc(s.name)}" data-status="${esc(s.status)}">` +
    `<h3>${esc(s.name)} <span class="path">(${esc(s.path)})</span>${esc(note)}</h3>` +
    (lines.length ? `<ul class="diff">${lines.join('')}</ul>` : '') + '</div>';
}

function refText(o) {
  if (!o) return '';
  return o.namespace ? `${o.kind} ${o.namespace}/${o.name}` : `${o.kind} ${o.name}`;
}

function fieldHTML(f) {
  const path = `<code class="fpath">${esc(f.path)}</code>`;
  if (f.hidden) return `${path}: ${esc(f.op)} <em>(value hidden)</em>`;
  if (f.lines && f.lines.length) {
    return `${path}: changed<pre class="lines">${f.lines.map((l) => `<span class="${l.startsWith('+') ? 'add' : l.startsWith('-') ? 'del' : ''}">${esc(l)}</span>`).join('\n')}</pre>`;
  }
  if (f.op === 'added') return `${path}: added <code class="after">${esc(f.after)}</code>`;
  if (f.op === 'removed') return `${path}: removed (was <code class="before">${esc(f.before)}</code>)`;
  return `${path}: <code class="before">${esc(f.before)}</code> \u2192 <code class="after">${esc(f.after)}</code>`;
}

// ---------------------------------------------------------------- theme and keys

function setTheme(t, save) {
  document.documentElement.setAttribute('data-theme', t);
  const b = $('#theme');
  if (b) b.setAttribute('aria-label', t === 'dark' ? 'Switch to light theme' : 'Switch to dark theme');
  if (save) {
    try {
      localStorage.setItem('flotilla-theme', t);
    } catch (e) {
      /* storage disabled: the choice lasts until reload */
    }
  }
}

function initTheme() {
  let t = null;
  try {
    t = localStorage.getItem('flotilla-theme');
  } catch (e) {
    /* storage disabled */
  }
  if (t !== 'light' && t !== 'dark') {
    t = window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
  }
  setTheme(t, false);
  $('#theme').addEventListener('click', () => {
    setTheme(document.documentElement.getAttribute('data-theme') === 'dark' ? 'light' : 'dark', true);
  });
}

function typing(el) {
  return el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable);
}

function onGlobalKey(e) {
  if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
  if ($('#confirm').open) return; // the dialog handles its own keys
  if (e.key === '/' && !typing(document.activeElement)) {
    e.preventDefault();
    if (state.route.view !== 'fleet') location.hash = '#/';
    state.swallowSlash = true;
    setTimeout(() => (state.swallowSlash = false), 300);
    const focus = () => {
      const s = $('#search');
      if (s) {
        s.focus();
        s.select();
      }
    };
    if (state.route.view === 'fleet') focus();
    else state.wantSearch = true; // renderFleet focuses it
  } else if (e.key === 'Escape' && state.route.view !== 'fleet') {
    e.preventDefault();
    location.hash = '#/';
  }
}

// ---------------------------------------------------------------- start

function start() {
  initTheme();
  $('.skip').addEventListener('click', (e) => {
    e.preventDefault(); // the hash is the route
    main().focus();
  });
  window.addEventListener('hashchange', onRoute);
  document.addEventListener('keydown', onGlobalKey);
  onRoute();
  loadFleet();
  connect();
  setInterval(refreshTimes, 15000);
}

start();
