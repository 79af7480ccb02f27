// The overview (#/): batches by state, pipelines, backlog, the charts,
// deadlines at risk and the newest batches. The newest batches and
// /v1/status are asked for at once and shown as each arrives; the last
// hour for the charts is read after them.
import { api } from './api.js';
import { batchCells, batchRowClick } from './batches.js';
import { renderCharts } from './charts.js';
import { $, batchHref, el, enc } from './dom.js';
import { num, secs, when } from './format.js';
import { RECENT_ROWS, hour, hourComplete, updateHour } from './hour.js';
import { STATES, stateBadge } from './states.js';
import { dataTable, replaceIfChanged, setEmpty, syncRows } from './widgets.js';

function renderCounts(status) {
  const counts = status.batches_by_state || {};
  const known = STATES.concat(Object.keys(counts).filter((s) => !STATES.includes(s)));
  let total = 0;
  for (const s of known) total += counts[s] || 0;
  const tiles = [el('a', { class: 'count', href: '#/batches', title: 'every batch' },
    el('span', { class: 'muted', text: 'all' }), el('b', { text: num(total) }))];
  for (const s of known) {
    const n = counts[s] || 0;
    tiles.push(el('a', { class: 'count' + (n ? '' : ' zero'), href: '#/batches?state=' + enc(s), 'data-state': s },
      stateBadge(s), el('b', { text: num(n) })));
  }
  replaceIfChanged($('state-counts'), JSON.stringify([total, counts]), tiles);
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
  replaceIfChanged($('backlog'), JSON.stringify([status.queue_depth, by, deliveries, held]), parts);
}

// ---- deadlines at risk -----------------------------------------------------
// #deadlines in index.html. /v1/status carries `deadlines` (architecture 8.3):
// per pipeline with a deadline or expect_every its counts and last arrival,
// and the batches at risk now, earliest deadline first. Nothing is estimated
// here: the server's monitor marks batches at risk.
function renderDeadlines(status) {
  const d = status.deadlines;
  const pipelines = d && Array.isArray(d.pipelines) ? d.pipelines : null;
  let sig;
  let content;
  if (!pipelines) {
    sig = 'none';
    content = [el('p', { class: 'empty', text: 'No deadline data: this server reports no deadlines (none in /v1/status).' })];
  } else if (pipelines.length === 0) {
    sig = '[]';
    content = [el('p', { class: 'empty', text: 'No pipeline has a deadline or expect_every.' })];
  } else {
    const atRisk = Array.isArray(d.at_risk) ? d.at_risk : [];
    sig = JSON.stringify([pipelines, atRisk.map((b) => [b.id, b.state])]);
    content = [dataTable(['pipeline', 'deadline', 'expect every', 'at risk', 'missed (24 h)', 'last arrival', ''],
      pipelines.map((p) => [
        { href: '#/batches?pipeline=' + enc(p.pipeline), text: p.pipeline },
        secs(p.deadline_seconds), secs(p.expect_every_seconds),
        { cls: p.at_risk > 0 ? 'err' : '', text: num(p.at_risk) },
        { cls: p.missed_24h > 0 ? 'err' : '', text: num(p.missed_24h) },
        p.last_arrival_us ? when(p.last_arrival_us) : 'never',
        { cls: p.stale ? 'err stale' : '', text: p.stale ? 'stale' : '' },
      ]), 'deadline-pipelines')];
    if (atRisk.length === 0) {
      content.push(el('p', { class: 'empty', text: 'No deadline is at risk.' }));
    } else {
      content.push(dataTable(['batch', 'pipeline', 'state', 'deadline', 'left'],
        atRisk.map((b) => [
          { href: batchHref(b.id), text: '#' + b.id }, b.pipeline, { state: b.state },
          when(b.deadline_us), b.seconds_left >= 0 ? secs(b.seconds_left) : 'passed',
        ]), 'deadline-at-risk'));
    }
  }
  replaceIfChanged($('deadlines'), sig, content);
}
// ---- end of deadlines at risk ---------------------------------------------

// performance marks for measurements (bench and tests read them).
const marked = new Set();
function markOnce(name) {
  if (marked.has(name)) return;
  marked.add(name);
  performance.mark(name);
}

export const overview = {
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
