// A batch (#/batches/ID): summary, rows, the state timeline, attempts, the
// last error, bad-record samples, output files, deliveries, lineage and the
// reference inputs it read.
import { api } from './api.js';
import { $, el, enc, tableHref } from './dom.js';
import { bytes, num, secs, when } from './format.js';
import { FINISHED, stateBadge } from './states.js';
import { dataTable, kv, panel } from './widgets.js';

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

export const batchView = {
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
