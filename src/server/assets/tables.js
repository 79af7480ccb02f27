// Tables (#/tables) and a table (#/tables/NAME?snapshot=): schema, the
// newest snapshots, and a preview of the rows of the current (or a chosen)
// snapshot, paged on with the API's cursor.
import { api, apiPath } from './api.js';
import { banner } from './banner.js';
import { $, batchHref, el, enc, tableHref } from './dom.js';
import { bytes, cellValue, num, when } from './format.js';
import { dataTable, kv, panel, setEmpty, syncRows } from './widgets.js';

const PREVIEW_ROWS = 20;
const SNAPSHOTS_SHOWN = 50;

export const tablesView = {
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

export const tableView = {
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
