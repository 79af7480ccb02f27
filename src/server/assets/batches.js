// Batches (#/batches?state=&pipeline=&before=): the list paged through the
// API's `before` cursor, 50 a page, with the filters in the hash so that a
// page is a link. Also the batch rows the overview lists.
import { api } from './api.js';
import { $, batchHref, el } from './dom.js';
import { num, secs, when } from './format.js';
import { FINISHED, STATES } from './states.js';
import { setEmpty, syncRows } from './widgets.js';

const LIST_PAGE = 50;

// The cells of a batch's row (the tables of index.html with class `batches`).
export function batchCells(b) {
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
// A click anywhere on a batch's row opens the batch.
export function batchRowClick(tr, b) {
  tr.classList.add('click');
  tr.addEventListener('click', (ev) => {
    if (ev.target.closest('a')) return;
    location.hash = batchHref(b.id);
  });
}

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

export const batchesView = {
  section: 'view-batches',
  nav: 'batches',
  newer: [],      // the `before` of the pages seen before this one ('' = newest)
  filterKey: '',
  before: '',     // this page's `before` ('' = newest)
  nextBefore: null,
  title: () => 'sluice · batches',
  enter(r) {
    const state = r.params.get('state') || '';
    const pipeline = r.params.get('pipeline') || '';
    const key = state + '\u0000' + pipeline;
    if (key !== this.filterKey) { this.newer = []; this.filterKey = key; }
    this.before = r.params.get('before') || '';
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
  // Once, when the page starts.
  setup() {
    fillSelect($('filter-state'), STATES, '');
    const change = () => { this.newer = []; this.go(null); };
    $('filter-state').addEventListener('change', change);
    $('filter-pipeline').addEventListener('change', change);
    $('batch-filter').addEventListener('submit', (ev) => ev.preventDefault());
    $('page-older').addEventListener('click', () => {
      if (this.nextBefore === null || this.nextBefore === undefined) return;
      this.newer.push(this.before);
      this.go(this.nextBefore);
    });
    $('page-newer').addEventListener('click', () => this.go(this.newer.pop() || null));
    $('page-newest').addEventListener('click', () => { this.newer = []; this.go(null); });
  },
};
