// Loading the orders CSV into an indexed PostgreSQL table: sluice's
// `postgres` output (append and upsert) against `psql \copy` (the ceiling)
// and pgloader, same rows, same table DDL, same server. See bench/README.md,
// "PostgreSQL load".
//
//   node bench/pg_load.mjs [--sluice BIN] [--datagen BIN] [--rows N] [--reps N]
//                          [--tools LIST] [--phases] [--data-dir DIR] [--json] [--results FILE]
//
// Needs SLUICE_TEST_PG_DSN (an admin DSN: the bench creates a database of its
// own and drops it at the end; scripts/test-services.sh starts a server),
// psql, pgloader (scripts/install-deps.sh) and /usr/bin/time (peak RSS).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ALL_TOOLS = ['psql', 'ingest', 'load', 'upsert', 'pgloader'];
const USAGE = `usage: node bench/pg_load.mjs [options]
  --sluice BIN      sluice binary (default build/release/src/sluice)
  --datagen BIN     sluice_datagen binary (default build/release/bench/sluice_datagen)
  --rows N          rows of the orders data set (default 10000000)
  --reps N          runs of every measurement, in turns; the fastest counts (default 1)
  --tools LIST      ${ALL_TOOLS.join(',')} (default: all)
  --phases          sample pg_stat_activity during sluice's loads (4 psql calls a second)
                    to split the load into its statements (COPY, INSERT, ...)
  --dsn DSN         admin DSN (default $SLUICE_TEST_PG_DSN)
  --data-dir DIR    where the data sets live (default $SLUICE_BENCH_DIR or /tmp/sluice-bench)
  --json            print the results as JSON on stdout (the table goes to stderr)
  --results FILE    also write the JSON here (default bench/results/pg_load-<date>.json unless --json)`;
// Bump with bench.mjs's DATA_VERSION: the two share the data sets.
const DATA_VERSION = 1;
const SEED = 42;

// The orders columns, their sluice types and the PostgreSQL types sluice's
// postgres output writes for them (PgColumnType in src/sink/pg_copy.cc).
const SCHEMA = [
  ['order_id', 'int64 not null', 'bigint NOT NULL'],
  ['quantity', 'int32', 'integer'],
  ['unit_price', 'decimal(12,2)', 'numeric(12,2)'],
  ['currency', 'string', 'text'],
  ['created_at', 'timestamp', 'timestamp with time zone'],
  ['country', 'string', 'text'],
  ['note', 'string', 'text'],
];
const COLUMNS = SCHEMA.map(([n]) => n).join(', ');

function parseArgs(argv) {
  const o = {
    sluice: path.join(REPO, 'build/release/src/sluice'),
    datagen: path.join(REPO, 'build/release/bench/sluice_datagen'),
    rows: 10_000_000, reps: 1, tools: ALL_TOOLS, phases: false, json: false,
    dsn: process.env.SLUICE_TEST_PG_DSN,
    dataDir: process.env.SLUICE_BENCH_DIR || path.join(os.tmpdir(), 'sluice-bench'),
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value\n${USAGE}`);
      return argv[++i];
    };
    if (a === '--sluice') o.sluice = path.resolve(next());
    else if (a === '--datagen') o.datagen = path.resolve(next());
    else if (a === '--rows') o.rows = Number(next());
    else if (a === '--reps') o.reps = Number(next());
    else if (a === '--tools') o.tools = next().split(',');
    else if (a === '--phases') o.phases = true;
    else if (a === '--dsn') o.dsn = next();
    else if (a === '--data-dir') o.dataDir = path.resolve(next());
    else if (a === '--results') o.results = path.resolve(next());
    else if (a === '--json') o.json = true;
    else if (a === '-h' || a === '--help') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  for (const t of o.tools) if (!ALL_TOOLS.includes(t)) throw new Error(`unknown tool ${t}\n${USAGE}`);
  if (!o.dsn) throw new Error('no PostgreSQL: set SLUICE_TEST_PG_DSN (scripts/test-services.sh) or pass --dsn');
  const sluiceTools = o.tools.filter((t) => ['ingest', 'load', 'upsert'].includes(t));
  if (sluiceTools.length && !fs.existsSync(o.sluice)) throw new Error(`no sluice binary at ${o.sluice}`);
  if (o.tools.includes('pgloader') && spawnSync('pgloader', ['--version']).status !== 0) {
    throw new Error('pgloader is missing: scripts/install-deps.sh installs it (Debian package pgloader)');
  }
  if (!(o.rows > 0) || !(o.reps > 0)) throw new Error(USAGE);
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const say = (s) => (opts.json ? process.stderr : process.stdout).write(s + '\n');
const hasTime = fs.existsSync('/usr/bin/time');
fs.mkdirSync(opts.dataDir, { recursive: true });
const workDir = fs.mkdtempSync(path.join(opts.dataDir, 'pgload-'));
const dbName = `sluice_pgload_${process.pid}`;
const dsn = (() => {
  const u = new URL(opts.dsn);
  u.pathname = `/${dbName}`;
  return u.toString();
})();

// psql with the statements of `sql`; stops at the first error.
function psql(target, sql) {
  const r = spawnSync('psql', [target, '-XAtq', '-v', 'ON_ERROR_STOP=1', '-c', sql], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`psql: ${sql.slice(0, 200)}\n${r.stderr}`);
  return r.stdout.trim();
}

// The target table, empty, with the same DDL for every tool (a primary key on
// order_id); sluice's also has its batch column. The CHECKPOINT makes each
// run start without the previous run's dirty pages to write.
function freshTable(sluiceColumn) {
  const cols = SCHEMA.map(([n, , pg]) => `${n} ${pg}`);
  if (sluiceColumn) cols.push('_sluice_batch_id bigint');
  psql(dsn, `DROP TABLE IF EXISTS orders; DROP TABLE IF EXISTS sluice_ledger;
    CREATE TABLE orders (${cols.join(', ')}, PRIMARY KEY (order_id))`);
  psql(opts.dsn, 'CHECKPOINT');
}

function checkRows(what) {
  const [n, max] = psql(dsn, 'SELECT count(*), max(order_id) FROM orders').split('|').map(Number);
  if (n !== opts.rows || max !== opts.rows) throw new Error(`${what}: ${n} rows (max id ${max}), expected ${opts.rows}`);
}

// Samples the statements of the database's other sessions every 250 ms until
// stop() (pg_stat_activity's query_start is exact, so a statement seen once
// has a known start; one shorter than the interval may be missed).
function startSampler() {
  const seen = new Map();  // "statement@query_start" -> { statement, startMs }
  let stopped = false;
  const sql = `SELECT extract(epoch FROM query_start) * 1000, regexp_replace(left(query, 40), '\\s+', ' ', 'g')
    FROM pg_stat_activity WHERE datname = '${dbName}' AND pid <> pg_backend_pid() AND state = 'active'
      AND backend_type = 'client backend'`;
  const loop = (async () => {
    while (!stopped) {
      const out = await new Promise((resolve) => {
        const c = spawn('psql', [opts.dsn, '-XAtq', '-c', sql]);
        let s = '';
        c.stdout.on('data', (d) => { s += d; });
        c.on('close', () => resolve(s));
      });
      for (const line of out.split('\n').filter(Boolean)) {
        const [t, q] = line.split('|');
        const key = `${q}@${Math.round(Number(t))}`;
        if (!seen.has(key)) seen.set(key, { statement: q, startMs: Number(t) });
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  return async (endMs) => {
    stopped = true;
    await loop;
    const list = [...seen.values()].sort((a, b) => a.startMs - b.startMs);
    return list.map((s, i) => ({
      statement: s.statement, startMs: s.startMs,
      seconds: +(((i + 1 < list.length ? list[i + 1].startMs : endMs) - s.startMs) / 1000).toFixed(2),
    }));
  };
}

// Runs a child to completion: wall time, peak RSS and CPU seconds (user +
// system, /usr/bin/time: the client's, not the PostgreSQL backend's), output.
async function run(cmd, args, { cwd, sample = false } = {}) {
  const rssFile = path.join(workDir, '.rss');
  const [bin, argv] = hasTime ? ['/usr/bin/time', ['-f', '%M %U %S', '-o', rssFile, cmd, ...args]] : [cmd, args];
  const stopSampler = sample && opts.phases ? startSampler() : null;
  const t0 = process.hrtime.bigint();
  const startMs = Date.now();
  const r = await new Promise((resolve, reject) => {
    const c = spawn(bin, argv, { cwd });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => { stdout += d; });
    c.stderr.on('data', (d) => { stderr += d; });
    c.on('error', reject);
    c.on('close', (status) => resolve({ status, stdout, stderr }));
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  let phases = stopSampler ? await stopSampler(Date.now()) : null;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  const [rssKb, user, sys] = hasTime ? fs.readFileSync(rssFile, 'utf8').trim().split('\n').pop().split(' ')
    .map(Number) : [null, null, null];
  const rssMb = hasTime ? rssKb / 1024 : null;
  const cpuSeconds = hasTime ? user + sys : null;
  if (phases) {
    // Before the first statement seen: start-up, processing (ingest),
    // connecting, preparing the table; after the last one's start: it and
    // what followed it (the ledger row, COMMIT, the process's exit).
    const first = phases.length ? phases[0].startMs : Date.now();
    phases = [{ statement: '(before)', seconds: +((first - startMs) / 1000).toFixed(2) },
      ...phases.map(({ statement, seconds: s }) => ({ statement, seconds: s }))];
  }
  return { seconds, rssMb, cpuSeconds, stdout: r.stdout, stderr: r.stderr, phases };
}

function ensureData() {
  const file = path.join(opts.dataDir, `orders-v${DATA_VERSION}-${opts.rows}.csv`);
  if (!fs.existsSync(file)) {
    if (!fs.existsSync(opts.datagen)) throw new Error(`no sluice_datagen at ${opts.datagen}`);
    say(`generating ${opts.rows} orders rows as CSV in ${opts.dataDir} ...`);
    const tmp = `${file}.tmp`;
    const r = spawnSync(opts.datagen, ['--rows', String(opts.rows), '--seed', String(SEED), '--csv', tmp]);
    if (r.status !== 0) throw new Error(`sluice_datagen failed\n${r.stderr}`);
    fs.renameSync(tmp, file);
  }
  return file;
}

// A sluice project: local store, SQLite catalog, the orders pipeline with a
// postgres output in `mode` (and, with `lake`, a lake table as well).
function project(name, { mode, lake, loaders }) {
  const dir = path.join(workDir, name);
  fs.mkdirSync(path.join(dir, 'pipelines'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'sluice.yaml'), ['store_root: ./store', 'catalog: ./store/catalog.db',
    'pipelines_dir: ./pipelines', 'workers: 1', `loaders: ${loaders}`, 'poll_interval: 50ms', ''].join('\n'));
  const pg = mode === 'upsert' ? `{dsn: "${dsn}", table: orders, mode: upsert, key: [order_id]}`
    : `{dsn: "${dsn}", table: orders, mode: append}`;
  fs.writeFileSync(path.join(dir, 'pipelines', 'orders.yaml'), [
    'pipeline: orders', 'source: { pattern: "*.csv", format: csv, settle: 0s }', 'schema:',
    ...SCHEMA.map(([n, s]) => `  ${n}: ${s}`), 'on_bad_record: fail', 'outputs:',
    ...(lake ? ['  - table: orders', '    compression: zstd'] : []), `  - postgres: ${pg}`, ''].join('\n'));
  return dir;
}

function setLoaders(dir, n) {
  const f = path.join(dir, 'sluice.yaml');
  fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace(/^loaders: \d+$/m, `loaders: ${n}`));
}

// Puts the CSV into the project's landing zone (a hard link when it can: the
// server moves it to the archive, the original stays).
function land(dir, csv) {
  const d = path.join(dir, 'store', 'landing', 'orders');
  fs.mkdirSync(d, { recursive: true });
  try {
    fs.linkSync(csv, path.join(d, 'orders.csv'));
  } catch {
    fs.copyFileSync(csv, path.join(d, '.orders.csv'));
    fs.renameSync(path.join(d, '.orders.csv'), path.join(d, 'orders.csv'));
  }
}

function server(dir, extra = {}) {
  return run(opts.sluice, ['-c', path.join(dir, 'sluice.yaml'), '--log-level', 'info', 'server', '--exit-when-idle'],
    { cwd: dir, ...extra });
}

// The loader's own line: "...: N rows loaded (attempt 1, try 1)", timed
// from the server's first log line (the server logs to stdout).
function loadLine(log) {
  const ts = (l) => Date.parse(`${l.slice(0, 23)}Z`);
  const lines = log.split('\n').filter((l) => /^\d{4}-\d\d-\d\dT/.test(l));
  const done = lines.find((l) => /: \d+ rows .*\(attempt \d+, try \d+\)/.test(l));
  if (!lines.length || !done) return null;
  return +((ts(done) - ts(lines[0])) / 1000).toFixed(2);
}

function deliveryState(dir) {
  const r = spawnSync(opts.sluice, ['-c', path.join(dir, 'sluice.yaml'), 'batches', '--json'], { encoding: 'utf8' });
  const batches = JSON.parse(r.stdout);
  return batches.flatMap((b) => b.deliveries.map((d) => d.state)).join(',');
}

// Processes the landed CSV without loading it (loaders: 0); the delivery is
// left pending for the timed run.
async function processOnly(name, mode, csv) {
  const dir = project(name, { mode, lake: false, loaders: 0 });
  land(dir, csv);
  const r = await server(dir);
  const state = deliveryState(dir);
  if (state !== 'pending') throw new Error(`${name}: delivery ${state} after processing, expected pending`);
  setLoaders(dir, 1);
  return { dir, seconds: r.seconds };
}

async function timedLoad(dir, what) {
  const r = await server(dir, { sample: true });
  const state = deliveryState(dir);
  if (state !== 'delivered') throw new Error(`${what}: delivery ${state}\n${r.stdout}\n${r.stderr}`);
  checkRows(what);
  return { ...r, loadLogSeconds: loadLine(r.stdout) };
}

let seq = 0;
const MEASURE = {
  psql: async (csv) => {
    freshTable(false);
    const r = await run('psql', [dsn, '-XAtq', '-v', 'ON_ERROR_STOP=1', '-c',
      `\\copy orders(${COLUMNS}) FROM '${csv}' WITH (FORMAT csv, HEADER)`]);
    checkRows('psql \\copy');
    return r;
  },
  // The whole product path in one command: register, decode, lake Parquet,
  // staging, commit, then the load (ingest gives its load at most a minute).
  ingest: async (csv) => {
    const dir = project(`ingest-${seq++}`, { mode: 'append', lake: true, loaders: 1 });
    freshTable(true);
    const r = await run(opts.sluice, ['-c', path.join(dir, 'sluice.yaml'), 'ingest', '-p', 'orders', csv],
      { cwd: dir, sample: true });
    const state = deliveryState(dir);
    if (state !== 'delivered') {
      // ingest gives its load a minute, then cuts it (rolled back, left
      // pending for a server): the rows are not there. Recorded, and a
      // server run finishes the delivery so that the time to the rows being
      // in PostgreSQL is known.
      say(`  sluice ingest: delivery ${state} when ingest returned (it waits at most 60 s for its load)`);
      const rest = await server(dir);
      if (deliveryState(dir) !== 'delivered') throw new Error(`sluice ingest: not delivered\n${rest.stdout}`);
      checkRows('sluice ingest + server');
      fs.rmSync(dir, { recursive: true, force: true });
      return { ...r, seconds: r.seconds + rest.seconds, ingestSeconds: r.seconds, cut: state };
    }
    checkRows('sluice ingest');
    fs.rmSync(dir, { recursive: true, force: true });
    return r;
  },
  // The load alone: a server run with loaders: 0 processed the file; the
  // timed run (loaders: 1) only loads its delivery.
  load: async (csv) => {
    const p = await processOnly(`load-${seq++}`, 'append', csv);
    freshTable(true);
    const r = await timedLoad(p.dir, 'sluice load (append)');
    fs.rmSync(p.dir, { recursive: true, force: true });
    return { ...r, processSeconds: p.seconds };
  },
  // Upsert into the empty table, then the same batch again over the rows it
  // wrote (a copy of the processed project whose ledger row is removed, so
  // that the load is not skipped as already done).
  upsert: async (csv) => {
    const p = await processOnly(`upsert-${seq++}`, 'upsert', csv);
    const again = `${p.dir}-again`;
    fs.cpSync(p.dir, again, { recursive: true });
    freshTable(true);
    const empty = await timedLoad(p.dir, 'sluice upsert (empty table)');
    // Settled first, as a table loaded a while ago would be: without it
    // autovacuum's VACUUM ANALYZE of the new 10 M rows runs during the load.
    psql(dsn, 'DELETE FROM sluice_ledger');
    psql(dsn, 'VACUUM ANALYZE orders');
    psql(opts.dsn, 'CHECKPOINT');
    const over = await timedLoad(again, 'sluice upsert (over existing rows)');
    const batches = psql(dsn, 'SELECT count(DISTINCT _sluice_batch_id) FROM orders');
    if (batches !== '1') throw new Error(`upsert: ${batches} batch ids in the table`);
    fs.rmSync(p.dir, { recursive: true, force: true });
    fs.rmSync(again, { recursive: true, force: true });
    return { empty: { ...empty, processSeconds: p.seconds }, over };
  },
  pgloader: async (csv) => {
    freshTable(false);
    const cmd = path.join(workDir, 'orders.load');
    fs.writeFileSync(cmd, [
      'LOAD CSV', `  FROM '${csv}' (${COLUMNS})`, `  INTO ${dsn}`, `  TARGET TABLE orders (${COLUMNS})`,
      '  WITH skip header = 1, fields optionally enclosed by \'"\', fields escaped by double-quote,',
      '       fields terminated by \',\'', ';', ''].join('\n'));
    const r = await run('pgloader', ['--root-dir', path.join(workDir, 'pgloader'), cmd]);
    checkRows('pgloader');
    return r;
  },
};

// Every measurement a rep makes: name -> { title, target ratio }.
const ROWS = [
  ['psql', 'psql \\copy (ceiling)', null],
  ['ingest', 'sluice ingest, append (end to end)', null],
  ['load', 'sluice load, append', 0.9],
  ['upsert_empty', 'sluice load, upsert into empty table', 0.6],
  ['upsert_over', 'sluice load, upsert over existing rows', 0.6],
  ['pgloader', 'pgloader', null],
];

const results = {};
const add = (k, r) => { (results[k] ??= []).push(r); };
const loadStart = os.loadavg()[0];
let pgSettings = {};
try {
  const csv = ensureData();
  psql(opts.dsn, `CREATE DATABASE ${dbName}`);
  pgSettings = Object.fromEntries(['server_version', 'shared_buffers', 'max_wal_size', 'fsync',
    'synchronous_commit', 'temp_buffers', 'work_mem', 'maintenance_work_mem', 'wal_level']
    .map((s) => [s, psql(dsn, `SHOW ${s}`)]));
  spawnSync('sh', ['-c', `cat '${csv}' > /dev/null`]);
  say(`${opts.rows} rows, ${(fs.statSync(csv).size / 1e6).toFixed(0)} MB of CSV (warm page cache), `
    + `${opts.reps} run(s) of each, in turns; PostgreSQL ${pgSettings.server_version}`);
  for (let rep = 0; rep < opts.reps; rep++) {
    for (const tool of opts.tools) {
      const r = await MEASURE[tool](csv);
      if (tool === 'upsert') {
        add('upsert_empty', r.empty);
        add('upsert_over', r.over);
        say(`  run ${rep + 1} upsert: empty ${r.empty.seconds.toFixed(2)} s, over ${r.over.seconds.toFixed(2)} s`);
      } else {
        add(tool, r);
        say(`  run ${rep + 1} ${tool}: ${r.seconds.toFixed(2)} s`
          + (r.processSeconds ? ` (processing before it, untimed: ${r.processSeconds.toFixed(2)} s)` : ''));
      }
    }
  }
} finally {
  spawnSync('psql', [opts.dsn, '-XAtqc', `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`]);
  fs.rmSync(workDir, { recursive: true, force: true });
}

const best = (list) => list.reduce((a, b) => (b.seconds < a.seconds ? b : a));
const ceiling = results.psql ? best(results.psql).seconds : null;
const rowsOut = [];
for (const [key, title, target] of ROWS) {
  if (!results[key]) continue;
  const b = best(results[key]);
  const rowsPerS = opts.rows / b.seconds;
  rowsOut.push({
    key, title, seconds: +b.seconds.toFixed(3), runs: results[key].map((r) => +r.seconds.toFixed(3)),
    rows_per_s: Math.round(rowsPerS), ratio_to_psql: ceiling ? +(ceiling / b.seconds).toFixed(3) : null,
    target, peak_rss_mb: Math.max(...results[key].map((r) => r.rssMb ?? 0)) || null,
    client_cpu_seconds: b.cpuSeconds === null ? null : +b.cpuSeconds.toFixed(2),
    load_log_seconds: b.loadLogSeconds ?? null, process_seconds: b.processSeconds ?? null,
    // ingest only: its delivery was cut at its one-minute wait; `seconds`
    // adds the server run that finished it.
    ingest_cut: results[key].some((r) => r.cut) ? results[key].map((r) => r.ingestSeconds ?? null) : null,
    phases: b.phases ?? null,
  });
}

const pad = (s, w, left) => (left ? String(s).padEnd(w) : String(s).padStart(w));
const head = ['measurement', 'seconds', 'runs', 'rows/s', 'x psql', 'target', 'peak RSS MB', 'client CPU s'];
const table = [head, ...rowsOut.map((r) => [r.title, r.seconds.toFixed(2), r.runs.map((x) => x.toFixed(1)).join('/'),
  `${(r.rows_per_s / 1e6).toFixed(3)} M`, r.ratio_to_psql?.toFixed(2) ?? '-',
  r.target ? `>= ${r.target}` : '-', r.peak_rss_mb?.toFixed(0) ?? '-', r.client_cpu_seconds?.toFixed(1) ?? '-'])];
const widths = head.map((_, c) => Math.max(...table.map((row) => row[c].length)));
say('');
say(`PostgreSQL load: ${opts.rows} rows into an indexed table (primary key on order_id), best of `
  + `${opts.reps}, ${os.cpus().length} cores`);
for (const [i, row] of table.entries()) {
  say(row.map((c, j) => pad(c, widths[j], j === 0)).join('  '));
  if (i === 0) say(widths.map((w) => '-'.repeat(w)).join('  '));
}
say('x psql = psql \\copy seconds / this one\'s (throughput ratio); peak RSS and client CPU are the '
  + 'client process\'s (psql, pgloader on SBCL, sluice), not the PostgreSQL backend\'s');
for (const r of rowsOut) {
  if (r.ingest_cut) {
    say(`${r.title}: the load did not finish within ingest's 60 s wait (cut, rolled back); the time `
      + 'includes the server run that loaded it afterwards');
  }
  if (r.phases) {
    say(`${r.title}: ${r.phases.map((p) => `${p.statement} ${p.seconds ?? '?'} s`).join('; ')}`);
  }
}

const loadEnd = os.loadavg()[0];
const report = {
  bench: 'pg_load', date: new Date().toISOString(),
  host: { cpu: os.cpus()[0]?.model ?? 'unknown cpu', cores: os.cpus().length,
    memory_gb: Math.round(os.totalmem() / 2 ** 30), load_average: { start: loadStart, end: loadEnd } },
  commit: spawnSync('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim(),
  postgres: pgSettings, rows: opts.rows, reps: opts.reps, results: rowsOut,
};
if (opts.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
const resultsFile = opts.results ?? (opts.json ? null
  : path.join(REPO, 'bench', 'results', `pg_load-${report.date.slice(0, 19).replace(/:/g, '')}.json`));
if (resultsFile) {
  fs.mkdirSync(path.dirname(resultsFile), { recursive: true });
  fs.writeFileSync(resultsFile, JSON.stringify(report, null, 2) + '\n');
  say(`results: ${resultsFile}`);
}
