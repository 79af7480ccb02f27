// The overview's charts, inline SVG drawn here: throughput (rows written
// and quarantined per minute) and latency (mean seconds per batch per
// minute) over the last hour, from the finished batches in `hour`.
import { $, el, svg } from './dom.js';
import { hhmm, num, secs } from './format.js';
import { HOUR_MS, hour, hourComplete, hourSeries } from './hour.js';

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

export function renderCharts() {
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
