// The views' building blocks: table rows keyed and updated in place (a
// cell is rewritten only when its value changed: no flicker, no lost
// selection), static data tables, key/value lists, panels, empty-state notes.
import { $, el } from './dom.js';
import { cellValue } from './format.js';
import { stateBadge } from './states.js';

// A cell is a string or {text, cls, href, title, state, node}.
function fillCell(td, spec) {
  const c = typeof spec === 'object' && spec !== null ? spec : { text: spec };
  td.className = c.cls || '';
  if (c.title) td.title = c.title; else td.removeAttribute('title');
  if (c.state !== undefined) td.replaceChildren(stateBadge(c.state));
  else if (c.href) td.replaceChildren(el('a', { href: c.href, text: c.text }));
  else td.replaceChildren(cellValue(c.text));
}
// Makes tbody's rows those of `items`, in order, keyed by keyOf(item):
// existing rows are kept and only their changed cells rewritten; onRow(tr,
// item) runs once on each new row.
export function syncRows(tbody, items, keyOf, cellsOf, onRow) {
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

// The note #id ("No batch yet" and the like), shown with `text` or hidden.
export function setEmpty(id, shown, text) {
  const p = $(id);
  p.hidden = !shown;
  if (shown) p.textContent = text;
}

// Gives `box` the nodes `children` unless `sig` (a signature of the data
// they show) is that of the ones it has.
export function replaceIfChanged(box, sig, children) {
  if (box.dataset.sig === sig) return;
  box.replaceChildren(...children);
  box.dataset.sig = sig;
}

export function kv(pairs) {
  return el('dl', { class: 'kv' }, pairs.filter((p) => p).map(([k, v]) =>
    [el('dt', { text: k }), el('dd', null, v instanceof Node ? v : cellValue(v))]));
}
export function panel(title, wide, ...content) {
  return el('article', { class: 'panel' + (wide ? ' wide' : '') }, el('h2', null, title), content);
}
export function dataTable(headers, rows, cls) {
  return el('div', { class: 'scroll' }, el('table', { class: 'data' + (cls ? ' ' + cls : '') },
    el('thead', null, el('tr', null, headers.map((h) => (typeof h === 'string'
      ? el('th', { text: h }) : el('th', { class: h.cls, text: h.text }))))),
    el('tbody', null, rows.map((cells) => {
      const tr = el('tr');
      for (const c of cells) fillCell(tr.insertCell(-1), c);
      return tr;
    }))));
}
