// The sluice dashboard: one page with hash routes (#/, #/batches,
// #/batches/ID, #/tables, #/tables/NAME), its data from the /v1 API only.
// No framework and no third-party code. Every value from the server reaches
// the DOM as text (textContent, Text nodes, attribute values), never as
// markup; links are built here from encoded names.
//
// This file is the entry module (index.html loads it with type="module"):
// routing, the poll loop and the live indicator. Each view is a module of
// its own and an object
//   {section, nav, title(route), enter(route), async refresh(ctx)}:
// `section` is the id of its <section>, `nav` the data-nav link it marks,
// enter() runs on every navigation to it and refresh() on every poll, with
// ctx = the route plus stale() (a newer refresh started: drop this answer)
// and fresh() (the view's main data is on the page). The views:
// overview.js (with hour.js and charts.js), batches.js, batch_detail.js and
// tables.js. What they share: api.js and token.js (the /v1 client, the API
// token), dom.js, format.js, states.js, widgets.js and banner.js.
import { ApiError } from './api.js';
import { banner } from './banner.js';
import { batchView } from './batch_detail.js';
import { batchesView } from './batches.js';
import { $, el } from './dom.js';
import { pad } from './format.js';
import { overview } from './overview.js';
import { tableView, tablesView } from './tables.js';
import { setupToken } from './token.js';

// The page polls while it is visible. A slow answer stretches the period
// (three times the last refresh, at most 15 s) so that a big catalog is not
// asked again before it has finished answering.
const POLL_MS = 3000;
const POLL_MAX_MS = 15000;

// The live indicator in the header: what the poll loop is doing.
function setLive(kind, text) {
  const l = $('live');
  l.className = 'live ' + kind;
  l.textContent = text;
}

// ---- routing and the poll loop --------------------------------------------

const notFound = {
  section: 'view-batch',
  nav: '',
  title: () => 'sluice',
  enter() {
    $('batch-detail').replaceChildren(el('p', { class: 'empty' }, 'No such page. ', el('a', { href: '#/', text: 'Overview' })));
  },
  async refresh() {},
};

function parseRoute() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const qi = raw.indexOf('?');
  const path = qi < 0 ? raw : raw.slice(0, qi);
  const params = new URLSearchParams(qi < 0 ? '' : raw.slice(qi + 1));
  const parts = path.split('/').filter(Boolean).map((p) => {
    try { return decodeURIComponent(p); } catch { return p; }
  });
  if (parts.length === 0) return { view: overview, params };
  if (parts[0] === 'batches' && parts.length === 1) return { view: batchesView, params };
  if (parts[0] === 'batches' && parts.length === 2) return { view: batchView, params, id: parts[1] };
  if (parts[0] === 'tables' && parts.length === 1) return { view: tablesView, params };
  if (parts[0] === 'tables' && parts.length === 2) return { view: tableView, params, name: parts[1] };
  return { view: notFound, params };
}

const VIEWS = ['view-overview', 'view-batches', 'view-batch', 'view-tables', 'view-table'];
let current = null;
let generation = 0;
let timer = 0;

function navigate() {
  current = parseRoute();
  for (const id of VIEWS) $(id).hidden = id !== current.view.section;
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === current.view.nav) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.title = current.view.title(current);
  current.view.enter(current);
  refresh();
}

async function refresh() {
  clearTimeout(timer);
  const gen = ++generation;
  if (document.hidden) { setLive('paused', 'paused while the tab is hidden'); return; }
  if (!$('auth').hidden) { setLive('paused', 'waiting for a token'); return; }
  const ctx = Object.assign({}, current, {
    stale: () => gen !== generation,
    // The view's main data is on the page (the rest may still be loading).
    fresh: () => {
      banner(null);
      const d = new Date();
      setLive('ok', `live · ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`);
    },
  });
  const started = performance.now();
  try {
    await current.view.refresh(ctx);
    if (ctx.stale()) return;
    ctx.fresh();
  } catch (e) {
    if (ctx.stale()) return;
    if (e instanceof ApiError && e.status === 401) {
      setLive('paused', 'waiting for a token');
      return;  // no polling until a token is given
    }
    banner(e);
    setLive('error', e.status === 0 ? 'server unreachable' : 'last refresh failed');
  }
  if (ctx.stale()) return;
  const took = performance.now() - started;
  timer = setTimeout(refresh, Math.min(POLL_MAX_MS, Math.max(POLL_MS, 3 * took)));
}

function start() {
  setupToken(navigate);
  batchesView.setup();
  window.addEventListener('hashchange', navigate);
  document.addEventListener('visibilitychange', () => {
    if (document.hidden) {
      clearTimeout(timer);
      generation++;
      setLive('paused', 'paused while the tab is hidden');
    } else {
      refresh();
    }
  });
  navigate();
}

start();
