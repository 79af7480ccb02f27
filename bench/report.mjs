// The benchmark table: one line per task, tool path and thread count.
const MB = 1e6;

function fixed(x, digits) {
  return x === null || x === undefined || Number.isNaN(x) ? '-' : x.toFixed(digits);
}

function count(x) {
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)} M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)} k`;
  return x.toFixed(0);
}

export function formatTable(report) {
  const head = ['task', 'sluice via', 'input MB', 'thr', 'sluice s', 'duckdb s', 'ratio', 'rows/s',
    'MB/s', 'peak RSS MB s/d', 'output MB s/d', 'size s/d'];
  const rows = [head];
  const skipped = [];
  for (const r of report.results) {
    if (r.skipped) {
      skipped.push(`${r.task}: skipped (${r.skipped})`);
      continue;
    }
    const s = r.sluice;
    const d = r.duckdb;
    const isFloor = r.via === 'cat';
    rows.push([
      r.task,
      r.via,
      fixed(r.input_bytes / MB, 0),
      String(r.threads),
      fixed(s.seconds, 2),
      d ? fixed(d.seconds, 2) : '-',
      d ? fixed(r.ratio, 2) : '-',
      isFloor ? '-' : count(r.rows / s.seconds),
      fixed(r.input_bytes / MB / s.seconds, 0),
      isFloor ? '-' : `${fixed(s.peak_rss_mb, 0)} / ${d ? fixed(d.peak_rss_mb, 0) : '-'}`,
      isFloor || s.output_bytes == null
        ? '-' : `${fixed(s.output_bytes / MB, 0)} / ${d ? fixed(d.output_bytes / MB, 0) : '-'}`,
      d && d.output_bytes ? fixed(s.output_bytes / d.output_bytes, 2) : '-',
    ]);
  }
  const widths = head.map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  const line = (row) => row.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  const out = [
    `sluice vs DuckDB: ${report.rows} rows, best of ${report.reps}, warm page cache, ${report.host.cpu} `
      + `(${report.host.cores} cores), commit ${report.commit}`,
    line(rows[0]),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.slice(1).map(line),
    ...skipped,
    'ratio = sluice s / duckdb s (below 1: sluice is faster); rows/s and MB/s are sluice\'s '
      + '(MB/s of input); s/d = sluice / DuckDB',
  ];
  return out.join('\n');
}
