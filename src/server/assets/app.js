// The sluice dashboard: one page with hash routes (#/, #/batches,
// #/batches/ID, #/tables, #/tables/NAME), its data from the /v1 API only.
// No framework and no third-party code. Every value from the server reaches
// the DOM as text (textContent, Text nodes, attribute values), never as
// markup; links are built here from encoded names.
'use strict';

(() => {
  // The page polls while it is visible. A slow answer stretches the period
  // (three times the last refresh, at most 15 s) so that a big catalog is not
  // asked again before it has finished answering.
  const POLL_MS = 3000;
  const POLL_MAX_MS = 15000;
  const HOUR_MS = 3600 * 1000;
  // The charts read the newest finished batches a page at a time (see
  // readFinished), at most WINDOW_MAX_PAGES pages of committed ones, all of
  // them again every WINDOW_RELOAD_MS and only the new ones in between.
  const WINDOW_PAGE = 200;
  const WINDOW_MAX_PAGES = 5;
  const WINDOW_RELOAD_MS = 30000;
  const LIST_PAGE = 50;
  const RECENT_ROWS = 15;
  const PREVIEW_ROWS = 20;
  const SNAPSHOTS_SHOWN = 50;
  const STATES = ['landed', 'queued', 'processing', 'committing', 'committed', 'failed',
    'quarantined', 'damaged'];
  const FINISHED_LIST = ['committed', 'quarantined'];
  const FINISHED = new Set(FINISHED_LIST);
  const TOKEN_KEY = 'sluice.token';

  // ---- DOM helpers ---------------------------------------------------------

  const $ = (id) => document.getElementById(id);

  // el('td', {class: 'num', text: '12'}, child...): strings become Text nodes.
  function el(tag, props, ...children) {
    const e = document.createElement(tag);
    if (props) {
      for (const [k, v] of Object.entries(props)) {
        if (v === undefined || v === null || v === false) continue;
        if (k === 'class') e.className = v;
        else if (k === 'text') e.textContent = String(v);
        else if (k === 'onclick') e.addEventListener('click', v);
        else if (k === 'href') e.setAttribute('href', hashHref(v));
        else e.setAttribute(k, String(v));
      }
    }
    appendAll(e, children);
    return e;
  }
  function appendAll(parent, children) {
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      parent.append(c instanceof Node ? c : String(c));
    }
  }
  // Only in-page links are ever made.
  function hashHref(h) {
    const s = String(h);
    return s.startsWith('#/') ? s : '#/';
  }
  const enc = encodeURIComponent;
  const batchHref = (id) => '#/batches/' + enc(id);
  const tableHref = (name) => '#/tables/' + enc(name);

  const SVG = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs, ...children) {
    const e = document.createElementNS(SVG, tag);
    if (attrs) for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    appendAll(e, children);
    return e;
  }

  // ---- formatting ----------------------------------------------------------

  const nf = new Intl.NumberFormat('en-US');
  const num = (n) => (n === null || n === undefined ? '—' : nf.format(n));
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  function bytes(n) {
    if (n === null || n === undefined) return '—';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let v = n;
    let i = 0;
    while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return (i === 0 ? String(v) : v.toFixed(v < 10 ? 1 : 0)) + ' ' + units[i];
  }
  function when(us) {
    if (!us) return '—';
    const d = new Date(us / 1000);
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
      `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  }
  function hhmm(ms) {
    const d = new Date(ms);
    return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }
  function secs(s) {
    if (s === null || s === undefined || Number.isNaN(s)) return '—';
    if (s < 1) return `${Math.round(s * 1000)} ms`;
    if (s < 120) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
    if (s < 7200) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
    return `${(s / 3600).toFixed(1)} h`;
  }
  function cellValue(v) {
    if (v === null || v === undefined) return el('span', { class: 'null', text: 'null' });
    if (typeof v === 'object') return JSON.stringify(v);
    return String(v);
  }
  function stateBadge(state) {
    const s = String(state);
    const cls = /^[a-z_]+$/.test(s) ? 'st-' + s : 'st-unknown';
    return el('span', { class: 'state ' + cls, text: s });
  }

  // ---- the API ------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  // Bumped each time a token is submitted: a 401 to a request sent before
  // (without it, or with an older one) must not overwrite what the answer
  // to the new token says.
  let authEpoch = 0;

  async function api(path) {
    const headers = { Accept: 'application/json' };
    const epoch = authEpoch;
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers.Authorization = 'Bearer ' + token;
    let r;
    try {
      r = await fetch(path, { headers, cache: 'no-store' });
    } catch (e) {
      throw new ApiError(0, 'network', 'the server did not answer (' + e.message + ')');
    }
    const text = await r.text();
    let body = null;
    try { body = text ? JSON.parse(text) : null; } catch { body = null; }
    if (!r.ok) {
      const err = body && body.error ? body.error : {};
      const e = new ApiError(r.status, err.code || 'http_' + r.status,
        err.message || `${r.status} ${r.statusText}`);
      if (r.status === 401 && epoch === authEpoch) askForToken(e, Boolean(token));
      throw e;
    }
    if (body === null) throw new ApiError(r.status, 'bad_json', `${path}: the answer is not JSON`);
    return body;
  }

  // A `next` address from the API, kept only if it is one of its own paths.
  const apiPath = (p, prefix) => (typeof p === 'string' && p.startsWith(prefix) ? p : null);

  // ---- token ----------------------------------------------------------------

  function askForToken(err, hadToken) {
    if (hadToken) sessionStorage.removeItem(TOKEN_KEY);
    $('forget-token').hidden = true;
    $('auth-msg').textContent = hadToken
      ? `The server refused the token: ${err.message}`
      : 'This server needs a bearer token to show its data.';
    $('auth').hidden = false;
    $('auth-token').focus();
  }

  function setupToken() {
    $('forget-token').hidden = !sessionStorage.getItem(TOKEN_KEY);
    $('auth-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const t = $('auth-token').value.trim();
      if (!t) return;
      sessionStorage.setItem(TOKEN_KEY, t);
      authEpoch += 1;
      $('auth-token').value = '';
      $('auth').hidden = true;
      $('forget-token').hidden = false;
      navigate();
    });
    $('forget-token').addEventListener('click', () => {
      sessionStorage.removeItem(TOKEN_KEY);
      $('forget-token').hidden = true;
      navigate();
    });
  }

  // ---- live status and errors ---------------------------------------------

  function setLive(kind, text) {
    const l = $('live');
    l.className = 'live ' + kind;
    l.textContent = text;
  }
  function banner(err) {
    const b = $('banner');
    if (!err) { b.hidden = true; b.textContent = ''; return; }
    b.textContent = err.status ? `${err.message} (HTTP ${err.status})` : err.message;
    b.hidden = false;
  }

  // ---- keyed table rows: update in place, no re-render flicker ---------------

  // A cell is a string or {text, cls, href, title, state, node}.
  function fillCell(td, spec) {
    const c = typeof spec === 'object' && spec !== null ? spec : { text: spec };
    td.className = c.cls || '';
    if (c.title) td.title = c.title; else td.removeAttribute('title');
    if (c.state !== undefined) td.replaceChildren(stateBadge(c.state));
    else if (c.href) td.replaceChildren(el('a', { href: c.href, text: c.text }));
    else td.replaceChildren(cellValue(c.text));
  }
  function syncRows(tbody, items, keyOf, cellsOf, onRow) {
    const old = new Map();
    for (const tr of Array.from(tbody.rows)) old.set(tr.dataset.key, tr);
    let prev = null;
    for (const item of items) {
      const key = String(keyOf(item));
      let tr = old.get(key);
      if (tr) {
        old.delete(key);
      } else {
        tr = document.createElement('tr');
        tr.dataset.key = key;
        if (onRow) onRow(tr, item);
      }
      const cells = cellsOf(item);
      while (tr.cells.length > cells.length) tr.deleteCell(-1);
      cells.forEach((spec, i) => {
        const td = tr.cells[i] || tr.insertCell(-1);
        const sig = JSON.stringify(spec);
        if (td.dataset.sig !== sig) {
          fillCell(td, spec);
          td.dataset.sig = sig;
        }
      });
      const want = prev ? prev.nextSibling : tbody.firstChild;
      if (want !== tr) tbody.insertBefore(tr, want);
      prev = tr;
    }
    for (const tr of old.values()) tr.remove();
  }

  function batchCells(b) {
    return [
      { text: String(b.id), href: batchHref(b.id), cls: 'num' },
      b.pipeline,
      { state: b.state },
      { text: num(b.rows_read), cls: 'num' },
      { text: num(b.rows_written), cls: 'num' },
      { text: num(b.rows_quarantined), cls: 'num' },
      { text: num(b.attempts), cls: 'num' },
      { text: FINISHED.has(b.state) ? secs(b.seconds) : '—', cls: 'num' },
      when(b.created_us),
      { text: b.last_error || '', cls: 'err', title: b.last_error || undefined },
    ];
  }
  function batchRowClick(tr, b) {
    tr.classList.add('click');
    tr.addEventListener('click', (ev) => {
      if (ev.target.closest('a')) return;
      location.hash = batchHref(b.id);
    });
  }
  function setEmpty(id, shown, text) {
    const p = $(id);
    p.hidden = !shown;
    if (shown) p.textContent = text;
  }

  // ---- the last hour of batches, for the charts ------------------------------

  // The finished (committed, quarantined) batches of the last hour, read
  // per state: /v1/batches?state=S pages newest first (by registration),
  // until a whole page finished before the hour, at most HOUR_PAGES[S]
  // pages. Every WINDOW_RELOAD_MS everything is read again; in between,
  // only the pages down to the newest batch read before.
  const HOUR_PAGES = { committed: WINDOW_MAX_PAGES, quarantined: 2 };
  const hour = {
    batches: new Map(),  // id -> batch
    states: {},          // state -> {complete, knownFromUs, maxId}
    loadedAt: 0,         // Date.now() of the last full read
    ready: false,        // read at least once
  };
  const hourComplete = () => FINISHED_LIST.every((s) => hour.states[s] && hour.states[s].complete);

  async function readFinished(state, full, stale, map) {
    const st = hour.states[state] || (hour.states[state] = { complete: false, knownFromUs: 0, maxId: 0 });
    const from = (Date.now() - HOUR_MS) * 1000;
    let before = null;
    let pages = 0;
    let done = false;
    let reachedKnown = false;
    let newest = 0;
    let minUpdated = Infinity;
    while (!done && !reachedKnown && pages < HOUR_PAGES[state]) {
      // Between full reads the first page is short: usually all there is.
      const limit = full || pages > 0 ? WINDOW_PAGE : RECENT_ROWS;
      const page = await api(`/v1/batches?state=${state}&limit=${limit}` +
        (before !== null ? `&before=${Number(before)}` : ''));
      if (stale()) return false;
      pages++;
      for (const b of page.batches) {
        map.set(b.id, b);
        minUpdated = Math.min(minUpdated, b.updated_us);
      }
      if (pages === 1 && page.batches.length) newest = page.batches[0].id;
      const last = page.batches.length ? page.batches[page.batches.length - 1] : null;
      before = page.next_before === undefined ? null : page.next_before;
      done = before === null || !last || page.batches.every((b) => b.updated_us < from);
      reachedKnown = !full && last !== null && last.id <= st.maxId;
    }
    if (full) {
      st.complete = done;
      st.knownFromUs = done || minUpdated === Infinity ? 0 : minUpdated;
    } else if (!done && !reachedKnown) {
      hour.loadedAt = 0;  // more than the pages since the last poll: read all next time
    }
    st.maxId = Math.max(st.maxId, newest);
    return true;
  }

  async function updateHour(stale) {
    const now = Date.now();
    const full = now - hour.loadedAt >= WINDOW_RELOAD_MS;
    const map = full ? new Map() : hour.batches;
    for (const state of FINISHED_LIST) {
      if (!(await readFinished(state, full, stale, map))) return false;
    }
    if (full) {
      hour.batches = map;
      hour.loadedAt = now;
      hour.ready = true;
    }
    const from = (now - HOUR_MS) * 1000;
    for (const [id, b] of hour.batches) {
      if (b.updated_us < from || !FINISHED.has(b.state)) hour.batches.delete(id);
    }
    return true;
  }

  // Per-minute buckets of the last hour, by the minute a batch finished
  // (committed or quarantined; its updated_us).
  function hourSeries() {
    const end = Math.ceil(Date.now() / 60000) * 60000;
    const start = end - HOUR_MS;
    const n = 60;
    const rows = new Array(n).fill(0);
    const quar = new Array(n).fill(0);
    const count = new Array(n).fill(0);
    const proc = new Array(n).fill(0);
    const e2e = new Array(n).fill(0);
    for (const b of hour.batches.values()) {
      if (!FINISHED.has(b.state)) continue;
      const t = b.updated_us / 1000;
      if (t < start || t >= end) continue;
      const i = Math.min(n - 1, Math.floor((t - start) / 60000));
      rows[i] += b.rows_written || 0;
      quar[i] += b.rows_quarantined || 0;
      count[i] += 1;
      proc[i] += b.seconds || 0;
      e2e[i] += Math.max(0, (b.updated_us - b.created_us) / 1e6);
    }
    const mean = (sum) => sum.map((v, i) => (count[i] ? v / count[i] : null));
    // Minutes before the oldest batch read are unknown, not zero.
    let knownFrom = start;
    for (const st of Object.values(hour.states)) {
      if (!st.complete && st.knownFromUs) knownFrom = Math.max(knownFrom, st.knownFromUs / 1000);
    }
    knownFrom = Math.min(knownFrom, end);
    return { start, end, rows, quar, count, proc: mean(proc), e2e: mean(e2e), knownFrom };
  }

  // ---- charts: inline SVG ------------------------------------------------

  function niceMax(v) {
    if (!(v > 0)) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
    return 10 * p;
  }
  function shortNum(v) {
    if (v >= 1e9) return (v / 1e9).toFixed(v >= 1e10 ? 0 : 1) + 'G';
    if (v >= 1e6) return (v / 1e6).toFixed(v >= 1e7 ? 0 : 1) + 'M';
    if (v >= 1e3) return (v / 1e3).toFixed(v >= 1e4 ? 0 : 1) + 'k';
    return String(Math.round(v * 100) / 100);
  }

  // series: [{name, cls, kind: 'bar' | 'line', values: [60 numbers or null]}];
  // bars of one chart stack. Redraws only when the data changed.
  function drawChart(container, opts) {
    const sig = JSON.stringify([opts.start, opts.knownFrom, opts.series.map((s) => s.values)]);
    if (container.dataset.sig === sig) return;
    container.dataset.sig = sig;
    const W = 600, H = 180, L = 46, R = 10, T = 10, B = 22;
    const n = opts.series[0].values.length;
    const bw = (W - L - R) / n;
    let max = 0;
    const stack = new Array(n).fill(0);
    for (const s of opts.series) {
      s.values.forEach((v, i) => {
        if (v === null) return;
        if (s.kind === 'bar') { stack[i] += v; max = Math.max(max, stack[i]); } else max = Math.max(max, v);
      });
    }
    const top = niceMax(max);
    const y = (v) => T + (H - T - B) * (1 - v / top);
    const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': opts.label });
    const minute = (i) => opts.start + i * 60000;
    if (opts.knownFrom > opts.start) {
      const w = ((opts.knownFrom - opts.start) / HOUR_MS) * (W - L - R);
      root.append(svg('rect', { class: 'unloaded', x: L, y: T, width: w, height: H - T - B },
        svg('title', null, 'not read: older than the batches the dashboard loaded')));
    }
    for (const f of [0, 0.5, 1]) {
      const v = top * f;
      root.append(svg('line', { class: f === 0 ? 'axis' : 'gridline', x1: L, x2: W - R, y1: y(v), y2: y(v) }));
      root.append(svg('text', { x: L - 6, y: y(v) + 3, 'text-anchor': 'end' }, opts.format(v)));
    }
    for (let i = 0; i <= n; i += 15) {
      root.append(svg('text', { x: L + i * bw, y: H - 6, 'text-anchor': i === 0 ? 'start' : i === n ? 'end' : 'middle' },
        hhmm(minute(i))));
    }
    const base = new Array(n).fill(0);
    let anything = false;
    for (const s of opts.series) {
      if (s.kind === 'bar') {
        s.values.forEach((v, i) => {
          if (!v) return;
          anything = true;
          const y0 = y(base[i]);
          const y1 = y(base[i] + v);
          base[i] += v;
          root.append(svg('rect', { class: s.cls, x: L + i * bw + 1, y: y1, width: Math.max(1, bw - 2), height: Math.max(1, y0 - y1) },
            svg('title', null, `${hhmm(minute(i))}–${hhmm(minute(i + 1))}: ${s.name} ${opts.format(v, true)}`)));
        });
      } else {
        let d = '';
        let pen = false;
        s.values.forEach((v, i) => {
          if (v === null) { pen = false; return; }
          anything = true;
          const px = L + (i + 0.5) * bw;
          d += `${pen ? 'L' : 'M'}${px.toFixed(1)},${y(v).toFixed(1)}`;
          pen = true;
          root.append(svg('circle', { class: s.cls, cx: px, cy: y(v), r: 2.2 },
            svg('title', null, `${hhmm(minute(i))}–${hhmm(minute(i + 1))}: ${s.name} ${opts.format(v, true)}`)));
        });
        if (d) root.insertBefore(svg('path', { class: s.cls, d }), root.querySelector('circle'));
      }
    }
    if (!anything) {
      root.append(svg('text', { class: 'empty-msg', x: (L + W - R) / 2, y: (T + H - B) / 2, 'text-anchor': 'middle' },
        'no batch finished in the last hour'));
    }
    const legend = el('div', { class: 'legend' },
      opts.series.map((s) => el('span', null, el('i', { class: s.cls }), s.name)));
    container.replaceChildren(root, legend);
  }

  function renderCharts() {
    const s = hourSeries();
    drawChart($('chart-throughput'), {
      label: 'rows written per minute, last hour',
      start: s.start, knownFrom: s.knownFrom,
      format: (v, exact) => (exact ? num(Math.round(v)) + ' rows' : shortNum(v)),
      series: [
        { name: 'rows written', cls: 's-rows', kind: 'bar', values: s.rows },
        { name: 'rows quarantined', cls: 's-quar', kind: 'bar', values: s.quar },
      ],
    });
    drawChart($('chart-latency'), {
      label: 'seconds per batch, last hour',
      start: s.start, knownFrom: s.knownFrom,
      format: (v, exact) => (exact ? secs(v) : shortNum(v) + 's'),
      series: [
        { name: 'processing (mean)', cls: 's-proc', kind: 'line', values: s.proc },
        { name: 'registered → finished (mean)', cls: 's-e2e', kind: 'line', values: s.e2e },
      ],
    });
    const finished = s.count.reduce((a, b) => a + b, 0);
    let note = `${num(finished)} batch(es) finished in the last hour`;
    if (!hourComplete() && s.knownFrom > s.start) {
      note += ` that the dashboard read: it reads the newest ${num(hour.batches.size)} finished ` +
        `batches only, so minutes before ${hhmm(s.knownFrom)} (shaded) are not fully counted`;
    }
    $('chart-note-throughput').textContent = note + '.';
    $('chart-note-latency').textContent =
      'Processing: the attempt that finished; registered → finished: from registration to commit.';
  }

  // ---- overview --------------------------------------------------------------

  function renderCounts(status) {
    const counts = status.batches_by_state || {};
    const known = STATES.concat(Object.keys(counts).filter((s) => !STATES.includes(s)));
    let total = 0;
    for (const s of known) total += counts[s] || 0;
    const box = $('state-counts');
    const tiles = [el('a', { class: 'count', href: '#/batches', title: 'every batch' },
      el('span', { class: 'muted', text: 'all' }), el('b', { text: num(total) }))];
    for (const s of known) {
      const n = counts[s] || 0;
      tiles.push(el('a', { class: 'count' + (n ? '' : ' zero'), href: '#/batches?state=' + enc(s), 'data-state': s },
        stateBadge(s), el('b', { text: num(n) })));
    }
    const sig = JSON.stringify([total, counts]);
    if (box.dataset.sig !== sig) {
      box.replaceChildren(...tiles);
      box.dataset.sig = sig;
    }
  }

  function renderPipelines(status) {
    const list = status.pipelines || [];
    const lastHour = new Map();
    for (const b of hour.batches.values()) {
      lastHour.set(b.pipeline, (lastHour.get(b.pipeline) || 0) + 1);
    }
    syncRows($('pipelines-body'), list, (p) => p.name, (p) => [
      { text: p.name, href: '#/batches?pipeline=' + enc(p.name) },
      { text: `v${p.version} · ${String(p.content_hash || '').slice(0, 8)}`, title: `version ${p.version}, spec sha256 ${p.content_hash}`, cls: 'mono' },
      { text: num(p.rows_written), cls: 'num' },
      { text: num(p.rows_quarantined), cls: 'num' },
      hour.ready
        ? { text: (hourComplete() ? '' : '≥ ') + num(lastHour.get(p.name) || 0), cls: 'num', title: 'batches finished (committed or quarantined) in the last hour' }
        : { text: '…', cls: 'num' },
      { text: p.waiting || '—', cls: p.waiting ? 'err' : '' },
    ]);
    setEmpty('pipelines-empty', list.length === 0, 'No pipeline is deployed.');
  }

  function renderBacklog(status) {
    const by = status.queue_depth_by_kind || {};
    const parts = [el('p', null, el('b', { text: num(status.queue_depth) }), ' task(s) queued: ',
      Object.entries(by).map(([k, v], i) => [i ? ', ' : '', `${num(v)} ${k}`]))];
    const deliveries = status.deliveries || [];
    if (deliveries.length === 0) {
      parts.push(el('p', { class: 'empty', text: 'No database delivery is pending or failed.' }));
    } else {
      const tbody = el('tbody');
      syncRows(tbody, deliveries, (d) => d.output + '\u0000' + d.target, (d) => [
        d.output, { text: d.target, cls: 'mono' },
        { text: num(d.pending), cls: 'num' },
        { text: num(d.failed), cls: d.failed ? 'num err' : 'num' },
        { text: num(d.rows), cls: 'num' },
        { text: d.oldest_pending_seconds === null ? '—' : secs(d.oldest_pending_seconds), cls: 'num' },
      ]);
      parts.push(el('div', { class: 'scroll' }, el('table', { class: 'data' },
        el('thead', null, el('tr', null, el('th', { text: 'output' }), el('th', { text: 'target' }),
          el('th', { class: 'num', text: 'pending' }), el('th', { class: 'num', text: 'failed' }),
          el('th', { class: 'num', text: 'rows' }), el('th', { class: 'num', text: 'oldest pending' }))),
        tbody)));
    }
    const held = (status.pipelines || []).filter((p) => p.waiting);
    for (const p of held) parts.push(el('p', { class: 'err' }, `${p.name} is held back: ${p.waiting}`));
    const box = $('backlog');
    const sig = JSON.stringify([status.queue_depth, by, deliveries, held]);
    if (box.dataset.sig !== sig) {
      box.replaceChildren(...parts);
      box.dataset.sig = sig;
    }
  }

  // Deadlines come from the API when it reports them; nothing is estimated here.
  function renderDeadlines(status) {
    const box = $('deadlines');
    const d = status.deadlines;
    let sig;
    let content;
    if (!Array.isArray(d)) {
      sig = 'none';
      content = [el('p', { class: 'empty', text: 'No deadline data: this server reports no deadlines (none in /v1/status).' })];
    } else if (d.length === 0) {
      sig = '[]';
      content = [el('p', { class: 'empty', text: 'No deadline is at risk.' })];
    } else {
      sig = JSON.stringify(d);
      const keys = Array.from(new Set(d.flatMap((x) => (x && typeof x === 'object' ? Object.keys(x) : []))));
      content = [el('div', { class: 'scroll' }, el('table', { class: 'data' },
        el('thead', null, el('tr', null, keys.map((k) => el('th', { text: k })))),
        el('tbody', null, d.map((x) => el('tr', null, keys.map((k) => el('td', null, cellValue(x ? x[k] : null)))))))) ];
    }
    if (box.dataset.sig !== sig) {
      box.replaceChildren(...content);
      box.dataset.sig = sig;
    }
  }

  // performance marks for measurements (bench and tests read them).
  const marked = new Set();
  function markOnce(name) {
    if (marked.has(name)) return;
    marked.add(name);
    performance.mark(name);
  }

  const overview = {
    section: 'view-overview',
    nav: 'overview',
    title: () => 'sluice',
    enter() {},
    async refresh(ctx) {
      // The short list first (it is small, so it comes fast), the status as
      // it arrives, then the rest of the hour for the charts.
      const statusAnswer = api('/v1/status');
      statusAnswer.catch(() => {});  // awaited below, or dropped with a stale refresh
      const first = await api('/v1/batches?limit=' + RECENT_ROWS);
      if (ctx.stale()) return;
      syncRows($('recent-body'), first.batches, (b) => b.id, batchCells, batchRowClick);
      setEmpty('recent-empty', first.batches.length === 0, 'No batch yet: land a file in a pipeline\'s landing zone.');
      markOnce('sluice:overview-batches');
      const status = await statusAnswer;
      if (ctx.stale()) return;
      renderCounts(status);
      renderBacklog(status);
      renderDeadlines(status);
      renderPipelines(status);
      markOnce('sluice:overview-status');
      ctx.fresh();
      if (!(await updateHour(ctx.stale))) return;
      if (ctx.stale()) return;
      renderPipelines(status);
      renderCharts();
    },
  };

  // ---- batches list ----------------------------------------------------------

  let pipelineNames = null;
  let pipelineNamesAt = 0;
  async function loadPipelineNames() {
    if (pipelineNames && Date.now() - pipelineNamesAt < 60000) return pipelineNames;
    const r = await api('/v1/pipelines');
    pipelineNames = (r.pipelines || []).map((p) => p.pipeline).sort();
    pipelineNamesAt = Date.now();
    return pipelineNames;
  }
  function fillSelect(select, values, current) {
    const want = [''].concat(values);
    if (current && !want.includes(current)) want.push(current);
    const have = Array.from(select.options).map((o) => o.value);
    if (JSON.stringify(have) !== JSON.stringify(want)) {
      select.replaceChildren(...want.map((v) => el('option', { value: v, text: v || 'any' })));
    }
    select.value = current || '';
  }

  const batchesView = {
    section: 'view-batches',
    nav: 'batches',
    newer: [],      // the `before` of the pages seen before this one ('' = newest)
    filterKey: '',
    nextBefore: null,
    title: () => 'sluice · batches',
    enter(r) {
      const state = r.params.get('state') || '';
      const pipeline = r.params.get('pipeline') || '';
      const key = state + '\u0000' + pipeline;
      if (key !== this.filterKey) { this.newer = []; this.filterKey = key; }
      fillSelect($('filter-state'), STATES, state);
      fillSelect($('filter-pipeline'), pipelineNames || [], pipeline);
      $('batches-body').replaceChildren();
      this.nextBefore = null;
      $('page-older').disabled = true;
      setEmpty('batches-empty', true, 'loading…');
      $('batches-page').textContent = '';
    },
    async refresh(ctx) {
      const p = ctx.params;
      const q = new URLSearchParams({ limit: String(LIST_PAGE) });
      for (const k of ['state', 'pipeline', 'before']) if (p.get(k)) q.set(k, p.get(k));
      const [page, names] = await Promise.all([api('/v1/batches?' + q), loadPipelineNames()]);
      if (ctx.stale()) return;
      fillSelect($('filter-pipeline'), names, p.get('pipeline') || '');
      syncRows($('batches-body'), page.batches, (b) => b.id, batchCells, batchRowClick);
      setEmpty('batches-empty', page.batches.length === 0,
        p.get('before') ? 'No older batch matches.' : 'No batch matches.');
      this.nextBefore = page.next_before;
      $('page-older').disabled = page.next_before === null || page.next_before === undefined;
      $('page-newer').disabled = !p.get('before');
      $('page-newest').disabled = !p.get('before');
      const ids = page.batches.map((b) => b.id);
      $('batches-page').textContent = ids.length
        ? `Batches ${ids[0]} to ${ids[ids.length - 1]}, newest first` +
          (p.get('before') ? ` (older than ${p.get('before')})` : '') + `; ${LIST_PAGE} a page.`
        : '';
    },
    go(before) {
      const q = new URLSearchParams();
      const state = $('filter-state').value;
      const pipeline = $('filter-pipeline').value;
      if (state) q.set('state', state);
      if (pipeline) q.set('pipeline', pipeline);
      if (before) q.set('before', String(before));
      const s = q.toString();
      location.hash = '#/batches' + (s ? '?' + s : '');
    },
    setup() {
      const change = () => { this.newer = []; this.go(null); };
      $('filter-state').addEventListener('change', change);
      $('filter-pipeline').addEventListener('change', change);
      $('batch-filter').addEventListener('submit', (ev) => ev.preventDefault());
      $('page-older').addEventListener('click', () => {
        if (this.nextBefore === null || this.nextBefore === undefined) return;
        this.newer.push(current.params.get('before') || '');
        this.go(this.nextBefore);
      });
      $('page-newer').addEventListener('click', () => this.go(this.newer.pop() || null));
      $('page-newest').addEventListener('click', () => { this.newer = []; this.go(null); });
    },
  };

  // ---- one batch ------------------------------------------------------------------

  function kv(pairs) {
    return el('dl', { class: 'kv' }, pairs.filter((p) => p).map(([k, v]) =>
      [el('dt', { text: k }), el('dd', null, v instanceof Node ? v : cellValue(v))]));
  }
  function panel(title, wide, ...content) {
    return el('article', { class: 'panel' + (wide ? ' wide' : '') }, el('h2', null, title), content);
  }
  function dataTable(headers, rows, cls) {
    return el('div', { class: 'scroll' }, el('table', { class: 'data' + (cls ? ' ' + cls : '') },
      el('thead', null, el('tr', null, headers.map((h) => (typeof h === 'string'
        ? el('th', { text: h }) : el('th', { class: h.cls, text: h.text }))))),
      el('tbody', null, rows.map((cells) => {
        const tr = el('tr');
        for (const c of cells) fillCell(tr.insertCell(-1), c);
        return tr;
      }))));
  }

  // Attempts, read off the state history: each `processing` starts one; it
  // ends at the next state other than processing/committing.
  function attemptsOf(history) {
    const out = [];
    let cur = null;
    for (const e of history) {
      if (e.state === 'processing') {
        if (cur) out.push(cur);
        cur = { n: out.length + 1, start: e.at_us, end: null, outcome: null, reason: '' };
      } else if (cur && e.state !== 'committing') {
        cur.end = e.at_us;
        cur.outcome = e.state;
        cur.reason = e.reason || '';
        out.push(cur);
        cur = null;
      }
    }
    if (cur) out.push(cur);
    return out;
  }

  function renderBatch(b) {
    const history = b.history || [];
    const terminal = FINISHED.has(b.state) || b.state === 'damaged';
    const head = el('div', { class: 'detail-head' },
      el('h1', { text: `Batch ${b.id}` }), stateBadge(b.state),
      el('span', null, 'pipeline ', el('a', { href: '#/batches?pipeline=' + enc(b.pipeline), text: b.pipeline }),
        ` · version ${b.pipeline_version}`),
      b.done ? el('span', { class: 'muted', text: 'fully delivered' }) : null);

    const summary = panel('Batch', false, kv([
      ['source file', el('span', { class: 'mono', text: b.object_key })],
      b.archive_key ? ['archived as', el('span', { class: 'mono', text: b.archive_key })] : null,
      ['size', bytes(b.size_bytes)],
      ['sha256', el('span', { class: 'mono', text: b.sha256 })],
      ['attempts', `${num(b.attempts)} (tries ${num(b.tries)})`],
      ['registered', when(b.created_us)],
      ['last change', when(b.updated_us)],
      b.next_attempt_us && !terminal ? ['next attempt', when(b.next_attempt_us)] : null,
      b.reason ? ['reason', b.reason] : null,
      b.duplicate_landings ? ['duplicate landings', num(b.duplicate_landings)] : null,
    ]));

    const rows = panel('Rows', false, kv([
      ['read', num(b.rows_read)],
      ['written', num(b.rows_written)],
      ['quarantined', num(b.rows_quarantined)],
      ['skipped', num(b.rows_skipped)],
      ['duplicates removed', num(b.duplicates_removed)],
      ['processing time', FINISHED.has(b.state) ? secs(b.seconds) : '—'],
    ]));

    const timeline = el('ol', { class: 'timeline' }, history.map((e, i) => {
      const next = history[i + 1];
      const dur = next ? secs((next.at_us - e.at_us) / 1e6) : null;
      return el('li', { class: /^[a-z_]+$/.test(e.state) ? `st-${e.state}-dot` : null },
        stateBadge(e.state),
        el('span', { class: 'when', text: when(e.at_us) + (dur ? ` · ${dur} in this state` : '') }),
        e.reason ? el('span', { class: 'why', text: e.reason }) : null);
    }));
    const timelinePanel = panel('State timeline', false,
      history.length ? timeline : el('p', { class: 'empty', text: 'No state history recorded.' }));

    const attempts = attemptsOf(history);
    const attemptsPanel = panel('Attempts', true, attempts.length
      ? dataTable(['attempt', 'started', { text: 'took', cls: 'num' }, 'outcome', 'reason'],
        attempts.map((a) => [String(a.n), when(a.start),
          { text: a.end ? secs((a.end - a.start) / 1e6) : 'running', cls: 'num' },
          a.outcome ? { state: a.outcome } : '—',
          { text: a.reason, cls: 'wrap' }]))
      : el('p', { class: 'empty', text: 'Not processed yet.' }));

    const parts = [summary, rows, timelinePanel, attemptsPanel];
    if (b.last_error) {
      parts.push(panel('Last error', true,
        b.last_error_class ? el('p', { class: 'muted', text: `class: ${b.last_error_class}` }) : null,
        el('pre', { class: 'error', text: b.last_error })));
    }

    const samples = b.bad_record_samples || [];
    const badContent = [];
    if (b.bad_records_key) badContent.push(el('p', { class: 'muted' }, 'kept in ', el('code', { text: b.bad_records_key })));
    if (samples.length) {
      const records = samples.filter((s) => s && typeof s === 'object' && 'reason' in s);
      const other = samples.filter((s) => !(s && typeof s === 'object' && 'reason' in s));
      badContent.push(dataTable([{ text: 'line', cls: 'num' }, 'field', 'reason', 'raw', 'file'],
        records.map((s) => [{ text: s.line === undefined ? '—' : String(s.line), cls: 'num' },
          s.field || '—', { text: s.reason, cls: 'wrap' }, { text: s.raw === undefined ? '' : s.raw, cls: 'mono wrap' },
          { text: s.file || '', cls: 'mono' }]), 'bad-records'));
      for (const o of other) badContent.push(el('p', { class: 'muted mono', text: JSON.stringify(o) }));
      if (b.rows_quarantined > records.length) {
        badContent.push(el('p', { class: 'note', text: `showing ${records.length} of ${num(b.rows_quarantined)} quarantined rows` }));
      }
    } else {
      badContent.push(el('p', { class: 'empty', text: b.rows_quarantined
        ? `${num(b.rows_quarantined)} rows quarantined; no sample is kept for this attempt.` : 'No bad records.' }));
    }
    parts.push(panel('Bad records', true, badContent));

    const files = b.files || [];
    parts.push(panel('Output files', true, files.length
      ? dataTable(['table', 'file', 'partition', { text: 'rows', cls: 'num' }, { text: 'bytes', cls: 'num' }, { text: 'snapshot', cls: 'num' }],
        files.map((f) => [{ text: f.table, href: tableHref(f.table) }, { text: f.key, cls: 'mono' }, f.partition || '—',
          { text: num(f.rows), cls: 'num' }, { text: bytes(f.bytes), cls: 'num' }, { text: String(f.snapshot), cls: 'num' }]), 'files')
      : el('p', { class: 'empty', text: 'No output file (yet).' })));

    const deliveries = b.deliveries || [];
    if (deliveries.length) {
      parts.push(panel('Deliveries', true, dataTable(['output', 'target', 'state', { text: 'attempt', cls: 'num' },
        { text: 'rows', cls: 'num' }, { text: 'tries', cls: 'num' }, 'updated', 'error'],
      deliveries.map((d) => [d.output, { text: d.target, cls: 'mono' }, { state: d.state }, { text: String(d.attempt), cls: 'num' },
        { text: num(d.rows), cls: 'num' }, { text: num(d.tries), cls: 'num' }, when(d.updated_us),
        { text: d.last_error || '', cls: 'err', title: d.last_error || undefined }]))));
    }
    const lineage = b.lineage || [];
    if (lineage.length) {
      parts.push(panel('Lineage', true, dataTable(['output', 'file', { text: 'rows', cls: 'num' }, { text: 'version', cls: 'num' }],
        lineage.map((l) => [l.output, { text: l.file_key, cls: 'mono' }, { text: num(l.rows), cls: 'num' },
          { text: String(l.pipeline_version), cls: 'num' }]))));
    }
    const refs = b.references || [];
    if (refs.length) {
      parts.push(panel('References read', true, dataTable(['name', 'source', 'content sha256', { text: 'snapshot', cls: 'num' }],
        refs.map((r) => [r.name, { text: r.source, cls: 'mono' }, { text: r.content_sha256 || '', cls: 'mono' },
          { text: r.snapshot_id ? String(r.snapshot_id) : '—', cls: 'num' }]))));
    }
    return [head, el('div', { class: 'grid' }, parts)];
  }

  const batchView = {
    section: 'view-batch',
    nav: 'batches',
    sig: '',
    title: (r) => `sluice · batch ${r.id}`,
    enter(r) {
      this.sig = '';
      $('batch-detail').replaceChildren(el('p', { class: 'muted', text: `loading batch ${r.id}…` }));
    },
    async refresh(ctx) {
      const box = $('batch-detail');
      if (!/^[1-9][0-9]{0,18}$/.test(ctx.id)) {
        box.replaceChildren(el('p', { class: 'empty', text: `"${ctx.id}" is not a batch id.` }));
        return;
      }
      let b;
      try {
        b = await api('/v1/batches/' + ctx.id + '?bad_samples=20');
      } catch (e) {
        if (e.status !== 404) throw e;
        if (!ctx.stale()) box.replaceChildren(el('p', { class: 'empty', text: `No batch ${ctx.id}: ${e.message}` }));
        return;
      }
      if (ctx.stale()) return;
      const sig = JSON.stringify(b);
      if (sig === this.sig) return;
      this.sig = sig;
      box.replaceChildren(...renderBatch(b));
    },
  };

  // ---- tables -------------------------------------------------------------------

  const tablesView = {
    section: 'view-tables',
    nav: 'tables',
    title: () => 'sluice · tables',
    enter() {},
    async refresh(ctx) {
      const r = await api('/v1/tables');
      if (ctx.stale()) return;
      const list = r.tables || [];
      syncRows($('tables-body'), list, (t) => t.name, (t) => [
        { text: t.name, href: tableHref(t.name) },
        { text: String(t.snapshot), cls: 'num' },
        { text: num(t.rows), cls: 'num' },
        { text: num(t.files), cls: 'num' },
        { text: bytes(t.bytes), cls: 'num' },
        (t.partition_by || []).join(', ') || '—',
        { text: (t.columns || []).map((c) => c.name).join(', '), cls: 'wrap' },
      ]);
      setEmpty('tables-empty', list.length === 0, 'No table yet: tables appear with their first committed batch.');
    },
  };

  const tableView = {
    section: 'view-table',
    nav: 'tables',
    state: null,
    title: (r) => `sluice · ${r.name}`,
    enter(r) {
      const box = $('table-detail');
      const s = {
        name: r.name,
        snapshot: r.params.get('snapshot') || '',
        infoSig: '', snapSig: '', previewKey: '', pages: 0, next: null,
        head: el('div', { class: 'detail-head' }, el('h1', { text: r.name })),
        info: el('div', null, el('p', { class: 'muted', text: 'loading…' })),
        snaps: el('div', null, el('p', { class: 'muted', text: 'loading…' })),
        preview: el('div', null, el('p', { class: 'muted', text: 'loading…' })),
        previewTitle: el('small'),
        more: el('button', { type: 'button', id: 'preview-more', hidden: 'hidden' }, `next ${PREVIEW_ROWS} rows`),
      };
      s.more.addEventListener('click', () => this.morePreview(s));
      box.replaceChildren(s.head, el('div', { class: 'grid two' },
        panel('Table', false, s.info),
        panel('Snapshots', false, s.snaps),
        el('article', { class: 'panel wide', id: 'preview-panel' },
          el('h2', null, 'Data preview', s.previewTitle), s.preview, s.more)));
      this.state = s;
    },
    async refresh(ctx) {
      const s = this.state;
      const base = '/v1/tables/' + enc(s.name);
      let info, snaps;
      try {
        [info, snaps] = await Promise.all([api(base), api(base + '/snapshots')]);
      } catch (e) {
        if (e.status !== 404 && e.status !== 403) throw e;
        if (!ctx.stale()) s.info.replaceChildren(el('p', { class: 'empty', text: e.message }));
        return;
      }
      if (ctx.stale()) return;
      const infoSig = JSON.stringify(info);
      if (infoSig !== s.infoSig) {
        s.infoSig = infoSig;
        s.info.replaceChildren(kv([
          ['current snapshot', String(info.snapshot)],
          ['rows', num(info.rows)],
          ['files', num(info.files)],
          ['size', bytes(info.bytes)],
          ['partitioned by', (info.partition_by || []).join(', ') || '—'],
          ['location', el('span', { class: 'mono', text: info.location || '' })],
        ]), dataTable(['column', 'type', 'nullable'],
          (info.columns || []).map((c) => [c.name, { text: c.type, cls: 'mono' }, c.nullable ? 'yes' : 'no'])));
      }
      const list = (snaps.snapshots || []).slice().sort((a, b) => b.id - a.id);
      const snapSig = JSON.stringify([list.length, list.slice(0, SNAPSHOTS_SHOWN)]);
      if (snapSig !== s.snapSig) {
        s.snapSig = snapSig;
        const shown = list.slice(0, SNAPSHOTS_SHOWN);
        s.snaps.replaceChildren(...[list.length ? dataTable(
          [{ text: 'snapshot', cls: 'num' }, 'created', { text: 'batch', cls: 'num' }, { text: 'files', cls: 'num' }, { text: 'rows', cls: 'num' }, ''],
          shown.map((x) => [{ text: String(x.id), cls: 'num' }, when(x.created_us),
            x.batch_id ? { text: String(x.batch_id), href: batchHref(x.batch_id), cls: 'num' } : { text: '—', cls: 'num' },
            { text: num(x.added_files), cls: 'num' }, { text: num(x.added_rows), cls: 'num' },
            { text: 'preview', href: tableHref(s.name) + '?snapshot=' + enc(x.id) }]))
          : el('p', { class: 'empty', text: 'No snapshot yet.' }),
        list.length > shown.length ? el('p', { class: 'note', text: `the newest ${shown.length} of ${num(list.length)} snapshots` }) : null]
          .filter(Boolean));
      }
      // The preview follows the current snapshot until the reader pages on.
      const snap = s.snapshot || String(info.snapshot);
      if (snap !== s.previewKey && s.pages <= 1) {
        s.previewKey = snap;
        try {
          await this.loadPreview(s, ctx, snap);
        } catch (e) {
          s.previewKey = '';  // asked again on the next poll
          throw e;
        }
      }
    },
    async loadPreview(s, ctx, snap) {
      s.previewLabel = `snapshot ${snap}` + (s.snapshot ? '' : ' (current)');
      s.previewTitle.textContent = s.previewLabel;
      if (snap === '0') {
        s.preview.replaceChildren(el('p', { class: 'empty', text: 'The table has no committed rows.' }));
        return;
      }
      const q = new URLSearchParams({ limit: String(PREVIEW_ROWS), format: 'json' });
      if (s.snapshot) q.set('snapshot', s.snapshot);
      let page;
      try {
        page = await api(`/v1/tables/${enc(s.name)}/rows?${q}`);
      } catch (e) {
        if (e.status === 401 || e.status === 0) throw e;
        if (!ctx.stale()) s.preview.replaceChildren(el('p', { class: 'empty', text: `No preview: ${e.message}` }));
        return;
      }
      if (ctx.stale()) return;
      s.pages = 1;
      s.shown = 0;
      s.next = undefined;
      s.columns = page.columns || [];
      s.tbody = el('tbody');
      s.preview.replaceChildren(el('div', { class: 'scroll' }, el('table', { class: 'data preview', id: 'preview-table' },
        el('thead', null, el('tr', null, s.columns.map((c) => el('th', null, c.name, el('small', { text: c.type }))))),
        s.tbody)));
      this.appendRows(s, page);
    },
    appendRows(s, page) {
      for (const row of page.rows || []) {
        const tr = el('tr');
        for (const c of s.columns) tr.insertCell(-1).append(cellValue(row ? row[c.name] : null));
        s.tbody.append(tr);
      }
      s.shown = (s.shown || 0) + (page.rows || []).length;
      s.previewTitle.textContent = `${s.previewLabel}, ${s.next === undefined ? 'first ' : ''}${num(s.shown)} row(s)`;
      s.next = apiPath(page.next, `/v1/tables/${enc(s.name)}/rows?`);
      s.more.hidden = !s.next;
      if (s.tbody.rows.length === 0) {
        s.tbody.append(el('tr', null, el('td', { class: 'empty', colspan: Math.max(1, s.columns.length), text: 'no rows' })));
      }
    },
    async morePreview(s) {
      if (!s.next) return;
      s.more.disabled = true;
      try {
        const page = await api(s.next);
        if (this.state !== s) return;
        s.pages++;
        this.appendRows(s, page);
      } catch (e) {
        banner(e);
      } finally {
        s.more.disabled = false;
      }
    },
  };

  const notFound = {
    section: 'view-batch',
    nav: '',
    title: () => 'sluice',
    enter() {
      $('batch-detail').replaceChildren(el('p', { class: 'empty' }, 'No such page. ', el('a', { href: '#/', text: 'Overview' })));
    },
    async refresh() {},
  };

  // ---- routing and the poll loop --------------------------------------------

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
    const sel = $('filter-state');
    fillSelect(sel, STATES, '');
    setupToken();
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
})();
