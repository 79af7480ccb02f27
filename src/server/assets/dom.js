// Building the page's DOM. Every value reaches it as text (textContent,
// Text nodes, attribute values), never as markup; links are built from
// encoded names and only ever point inside the page.

export const $ = (id) => document.getElementById(id);

// el('td', {class: 'num', text: '12'}, child...): strings become Text nodes.
export function el(tag, props, ...children) {
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
export const enc = encodeURIComponent;
export const batchHref = (id) => '#/batches/' + enc(id);
export const tableHref = (name) => '#/tables/' + enc(name);

const SVG = 'http://www.w3.org/2000/svg';
export function svg(tag, attrs, ...children) {
  const e = document.createElementNS(SVG, tag);
  if (attrs) for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  appendAll(e, children);
  return e;
}
