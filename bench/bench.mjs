// The benchmark driver: sluice against DuckDB on the same files, same schema,
// same thread counts. bench/run.sh builds the binaries and calls this; see
// bench/README.md for what is measured and how.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO } from './duckdb_module.mjs';
import { formatTable } from './report.mjs';

const USAGE = `usage: node bench/bench.mjs --sluice BIN --datagen BIN [options]
  --rows N          rows of the orders data set (default 10000000)
  --threads LIST    thread counts, e.g. 1,2 (default 1,2)
  --tasks LIST      csv_parquet,ndjson_parquet,parquet_csv,csv_filter_groupby,cat (default: all)
  --reps N          runs per measurement, the best counts (default 3)
  --data-dir DIR    where the data sets live (default $SLUICE_BENCH_DIR or /tmp/sluice-bench)
  --json            print the results as JSON on stdout (the table goes to stderr)
  --results FILE    also write the JSON here (default bench/results/<date>.json unless --json)`;

const ALL_TASKS = ['csv_parquet', 'ndjson_parquet', 'parquet_csv', 'csv_decode', 'csv_filter_groupby', 'cat'];
// Bump when datagen's output changes, so stale data sets are not reused.
const DATA_VERSION = 1;
const SEED = 42;

// One schema for both tools: name, sluice type, DuckDB type. sluice writes
// timestamps as Parquet TIMESTAMP(MICROS, UTC), which is DuckDB's TIMESTAMPTZ.
const SCHEMA = [
  ['order_id', 'int64', 'BIGINT'],
  ['quantity', 'int32', 'INTEGER'],
  ['unit_price', 'decimal(12,2)', 'DECIMAL(12,2)'],
  ['currency', 'string', 'VARCHAR'],
  ['created_at', 'timestamp', 'TIMESTAMPTZ'],
  ['country', 'string', 'VARCHAR'],
  ['note', 'string', 'VARCHAR'],
];
const DUCK_COLUMNS = `{${SCHEMA.map(([n, , d]) => `'${n}': '${d}'`).join(', ')}}`;
const SLUICE_SCHEMA = SCHEMA.map(([n, s]) => `  ${n}: ${s}`).join('\n');

function parseArgs(argv) {
  const o = {
    rows: 10_000_000, threads: [1, 2], tasks: ALL_TASKS, reps: 3, json: false,
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
    else if (a === '--threads') o.threads = next().split(',').map(Number);
    else if (a === '--tasks') o.tasks = next().split(',');
    else if (a === '--reps') o.reps = Number(next());
    else if (a === '--data-dir') o.dataDir = path.resolve(next());
    else if (a === '--results') o.results = path.resolve(next());
    else if (a === '--json') o.json = true;
    else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  for (const t of o.tasks) if (!ALL_TASKS.includes(t)) throw new Error(`unknown task ${t}\n${USAGE}`);
  if (!o.sluice || !fs.existsSync(o.sluice)) throw new Error(`--sluice BIN is required (got ${o.sluice})`);
  if (!o.datagen || !fs.existsSync(o.datagen)) throw new Error(`--datagen BIN is required (got ${o.datagen})`);
  if (!(o.rows > 0) || !(o.reps > 0) || o.threads.some((t) => !(t > 0))) throw new Error(USAGE);
  return o;
}

const opts = parseArgs(process.argv.slice(2));
// Progress and the table go to stderr when stdout carries JSON.
const say = (s) => (opts.json ? process.stderr : process.stdout).write(s + '\n');
const hasTime = fs.existsSync('/usr/bin/time');
fs.mkdirSync(opts.dataDir, { recursive: true });
const workDir = fs.mkdtempSync(path.join(opts.dataDir, 'run-'));
const schemaFile = path.join(workDir, 'orders.schema.yaml');
fs.writeFileSync(schemaFile, `${SLUICE_SCHEMA.replace(/^ {2}/gm, '')}\n`);
// The filter + group-by task as a pipeline (`sluice convert --pipeline`).
const groupbyFile = path.join(workDir, 'orders_by_country.yaml');
fs.writeFileSync(groupbyFile, [
  'pipeline: orders_by_country', 'schema:', SLUICE_SCHEMA, 'transform:',
  '  - filter: "currency = \'EUR\'"', '  - aggregate:', '      group_by: [country]',
  '      aggregates:', '        revenue: sum(quantity * unit_price)',
  'outputs:', '  - table: revenue_by_country', ''].join('\n'));

// Runs a child to completion; wall time from here, peak RSS from /usr/bin/time.
function run(cmd, args, { cwd } = {}) {
  const rssFile = path.join(workDir, '.rss');
  const [bin, argv] = hasTime ? ['/usr/bin/time', ['-f', '%M', '-o', rssFile, cmd, ...args]] : [cmd, args];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(bin, argv, { cwd, encoding: 'utf8', maxBuffer: 1 << 26 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.error) throw r.error;
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  }
  let rssMb = null;
  if (hasTime) rssMb = Number(fs.readFileSync(rssFile, 'utf8').trim().split('\n').pop()) / 1024;
  return { seconds, rssMb, stdout: r.stdout, stderr: r.stderr };
}

// Best of opts.reps for each of several contenders, run in turns (A B C A B C
// ...) so that a change in machine load hits them alike: the fastest run's
// time and the highest peak RSS of all runs.
function bestOf(contenders) {
  const runs = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]));
  for (let i = 0; i < opts.reps; i++) {
    for (const [k, once] of Object.entries(contenders)) runs[k].push(once());
  }
  const out = {};
  for (const [k, list] of Object.entries(runs)) {
    const fastest = list.reduce((a, b) => (b.seconds < a.seconds ? b : a));
    const rss = list.map((r) => r.rssMb).filter((x) => x !== null);
    say(`  ${k}: ${list.map((r) => r.seconds.toFixed(2)).join(' / ')} s`);
    out[k] = { ...fastest, runs: list.map((r) => r.seconds), rssMb: rss.length ? Math.max(...rss) : null };
  }
  return out;
}

function fileBytes(p) {
  return fs.statSync(p).size;
}

function dirBytes(dir, suffix) {
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.endsWith(suffix)) total += fileBytes(path.join(e.parentPath ?? e.path, e.name));
  }
  return total;
}

function duckdb(threads, sql) {
  const r = run(process.execPath, [path.join(REPO, 'bench', 'duckdb_task.mjs'), String(threads), sql]);
  const out = JSON.parse(r.stdout.trim().split('\n').pop());
  // The statement's own time: DuckDB is not charged for node's start-up.
  return { seconds: out.seconds, wallSeconds: r.seconds, rssMb: r.rssMb, rows: out.rows };
}

function ensureData() {
  fs.mkdirSync(opts.dataDir, { recursive: true });
  const base = path.join(opts.dataDir, `orders-v${DATA_VERSION}-${opts.rows}`);
  const files = { csv: `${base}.csv`, ndjson: `${base}.ndjson`, parquet: `${base}.parquet` };
  const missing = ['csv', 'ndjson'].filter((k) => !fs.existsSync(files[k]));
  if (missing.length) {
    say(`generating ${opts.rows} orders rows as ${missing.join(' and ')} in ${opts.dataDir} ...`);
    const args = ['--rows', String(opts.rows), '--seed', String(SEED)];
    for (const k of missing) args.push(`--${k}`, files[k]);
    say(`  done in ${run(opts.datagen, args).seconds.toFixed(1)} s`);
  }
  if (!fs.existsSync(files.parquet) && opts.tasks.includes('parquet_csv')) {
    say('writing the Parquet copy with DuckDB ...');
    const tmp = `${files.parquet}.tmp`;
    duckdb(os.cpus().length, `COPY (SELECT * FROM read_csv('${files.csv}', header=true, columns=${DUCK_COLUMNS}))
        TO '${tmp}' (FORMAT parquet, COMPRESSION zstd)`);
    fs.renameSync(tmp, files.parquet);
  }
  return files;
}

// Reads a file once so that every tool starts with it in the page cache.
function warm(file) {
  run('sh', ['-c', `cat '${file}' > /dev/null`]);
}

function ingestThreadsSupported() {
  const r = spawnSync(opts.sluice, ['ingest', '--help'], { encoding: 'utf8' });
  return /--threads/.test(r.stdout);
}

// `sluice ingest --table orders FILE` in a fresh project whose pipeline spec
// declares the schema (so nothing is inferred); the project is made before and
// removed after the timed run.
function ingestOnce(input, format, threads, withThreads) {
  const dir = fs.mkdtempSync(path.join(workDir, 'ingest-'));
  fs.mkdirSync(path.join(dir, 'pipelines'));
  fs.writeFileSync(path.join(dir, 'sluice.yaml'),
    'store_root: ./store\ncatalog: ./store/catalog.db\npipelines_dir: ./pipelines\nworkers: 1\n');
  fs.writeFileSync(path.join(dir, 'pipelines', 'orders.yaml'), [
    'pipeline: orders', `source: { pattern: "*", format: ${format} }`, 'schema:', SLUICE_SCHEMA,
    'on_bad_record: fail', 'outputs:', '  - table: orders', '    compression: zstd', ''].join('\n'));
  const args = ['-c', path.join(dir, 'sluice.yaml'), 'ingest', '--table', 'orders', input];
  if (withThreads) args.push('--threads', String(threads));
  try {
    const r = run(opts.sluice, args, { cwd: dir });
    const m = /table orders: (\d+) rows/.exec(r.stdout);
    if (!m || Number(m[1]) !== opts.rows) throw new Error(`ingest wrote ${m && m[1]} rows:\n${r.stdout}`);
    return { ...r, outBytes: dirBytes(path.join(dir, 'store', 'lake', 'orders'), '.parquet') };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// `output` null: a task without output (`convert --check`).
function convertOnce(input, output, threads, extra) {
  if (output) fs.rmSync(output, { force: true });
  const r = run(opts.sluice, ['convert', input, ...(output ? [output] : []), '--threads', String(threads),
    '--json', ...extra]);
  const summary = JSON.parse(r.stdout);
  if (summary.rows !== opts.rows || summary.bad_records !== 0) {
    throw new Error(`sluice convert read ${summary.rows} rows, ${summary.bad_records} bad`);
  }
  return { ...r, outBytes: output ? fileBytes(output) : null, rowsOut: summary.rows_out };
}

// `rows`: the rows DuckDB must report (null: any).
function duckdbOnce(sql, output, threads, rows = opts.rows) {
  if (output) fs.rmSync(output, { force: true });
  const r = duckdb(threads, sql);
  if (rows !== null && r.rows !== rows) throw new Error(`DuckDB wrote ${r.rows} rows`);
  return { ...r, outBytes: output ? fileBytes(output) : null };
}

const TASKS = {
  csv_parquet: {
    title: 'CSV -> Parquet zstd', input: 'csv', out: 'parquet', ingest: 'csv',
    sluiceArgs: ['--schema', schemaFile, '--compression', 'zstd'],
    sql: (i, o) => `COPY (SELECT * FROM read_csv('${i}', header=true, delim=',', quote='"', escape='"',
        columns=${DUCK_COLUMNS})) TO '${o}' (FORMAT parquet, COMPRESSION zstd)`,
  },
  ndjson_parquet: {
    title: 'NDJSON -> Parquet zstd', input: 'ndjson', out: 'parquet', ingest: 'ndjson',
    sluiceArgs: ['--schema', schemaFile, '--compression', 'zstd'],
    sql: (i, o) => `COPY (SELECT * FROM read_json('${i}', format='newline_delimited',
        columns=${DUCK_COLUMNS})) TO '${o}' (FORMAT parquet, COMPRESSION zstd)`,
  },
  // Bytes to typed columns in memory, nothing written: sluice validates the
  // file against the schema (`convert --check`), DuckDB loads it into an
  // in-memory table.
  csv_decode: {
    title: 'CSV decode only', input: 'csv', out: null, ingest: null,
    sluiceArgs: ['--schema', schemaFile, '--check'],
    sql: (i) => `CREATE TABLE t AS SELECT * FROM read_csv('${i}', header=true, delim=',', quote='"',
        escape='"', columns=${DUCK_COLUMNS})`,
  },
  // The query of issue 4: DuckDB's COPY of the aggregate vs a pipeline with a
  // filter and an aggregate step. Both outputs are compared row for row.
  csv_filter_groupby: {
    title: 'CSV -> filter + group-by -> Parquet', input: 'csv', out: 'parquet', ingest: null,
    duckdbRows: null,
    sluiceArgs: ['--pipeline', groupbyFile, '--compression', 'zstd'],
    sql: (i, o) => `COPY (SELECT country, sum(quantity * unit_price) AS revenue
        FROM read_csv('${i}', header=true, delim=',', quote='"', escape='"', columns=${DUCK_COLUMNS})
        WHERE currency = 'EUR' GROUP BY country) TO '${o}' (FORMAT parquet, COMPRESSION zstd)`,
    verify: (s, d) => {
      const q = (f) => `SELECT country, CAST(revenue AS DECIMAL(38,2)) FROM read_parquet('${f}')`;
      const diff = duckdb(1, `SELECT count(*) AS Count FROM ((${q(s)} EXCEPT ${q(d)}) UNION ALL
          (${q(d)} EXCEPT ${q(s)}))`);
      if (diff.rows !== 0) throw new Error(`sluice and DuckDB differ in ${diff.rows} group(s)`);
    },
  },
  parquet_csv: {
    title: 'Parquet -> CSV', input: 'parquet', out: 'csv', ingest: null,
    sluiceArgs: [],
    sql: (i, o) => `COPY (SELECT * FROM read_parquet('${i}')) TO '${o}' (FORMAT csv, HEADER)`,
  },
};

const results = [];
const notes = [];
const loadStart = os.loadavg()[0];
try {
  const files = ensureData();
  const withThreads = ingestThreadsSupported();
  if (!withThreads) {
    notes.push('`sluice ingest` has no --threads flag in this build: ingest ran with its default threads');
  }
  say(`page cache: warm (each input is read once with cat before it is measured); best of ${opts.reps}`);
  for (const name of opts.tasks) {
    if (name === 'cat') continue;
    const task = TASKS[name];
    const input = files[task.input];
    const inBytes = fileBytes(input);
    for (const threads of opts.threads) {
      say(`${task.title}, ${threads} thread(s):`);
      warm(input);
      const sOut = task.out ? path.join(workDir, `sluice.${task.out}`) : null;
      const dOut = task.out ? path.join(workDir, `duckdb.${task.out}`) : null;
      const contenders = {
        'duckdb': () => duckdbOnce(task.sql(input, dOut), dOut, threads,
          task.duckdbRows === undefined ? opts.rows : task.duckdbRows),
        'sluice convert': () => convertOnce(input, sOut, threads, task.sluiceArgs),
      };
      if (task.ingest) {
        contenders['sluice ingest --table'] = () => ingestOnce(input, task.ingest, threads, withThreads);
      }
      const m = bestOf(contenders);
      if (task.verify) task.verify(sOut, dOut);
      const base = { task: task.title, input: path.basename(input), inBytes, rows: opts.rows, threads };
      results.push({ ...base, via: 'convert', sluice: m['sluice convert'], duckdb: m.duckdb });
      if (task.ingest) {
        results.push({ ...base, via: 'ingest --table', sluice: m['sluice ingest --table'], duckdb: m.duckdb });
      }
      if (sOut) fs.rmSync(sOut, { force: true });
      if (dOut) fs.rmSync(dOut, { force: true });
    }
  }
  if (opts.tasks.includes('cat')) {
    const inputs = new Set(['csv', 'ndjson', 'parquet'].filter((k) => fs.existsSync(files[k])));
    for (const k of inputs) {
      warm(files[k]);
      const r = bestOf({ [`cat ${k}`]: () => run('sh', ['-c', `cat '${files[k]}' > /dev/null`]) })[`cat ${k}`];
      results.push({ task: `cat ${k} > /dev/null (floor)`, input: path.basename(files[k]),
        inBytes: fileBytes(files[k]), rows: opts.rows, threads: 1, via: 'cat', sluice: r });
    }
  }
} finally {
  fs.rmSync(workDir, { recursive: true, force: true });
}

notes.push('sluice times are whole-process wall times; DuckDB times are the COPY statement alone '
  + '(in a node process that has already loaded DuckDB), which favours DuckDB slightly');
notes.push('peak RSS of DuckDB includes its node host (about 50 MB)');
if (!hasTime) notes.push('/usr/bin/time is missing (Debian package `time`): no peak RSS');
const loadEnd = os.loadavg()[0];
if (Math.max(loadStart, loadEnd) > os.cpus().length / 2) {
  notes.push(`load average ${loadStart.toFixed(1)} at the start and ${loadEnd.toFixed(1)} at the end on `
    + `${os.cpus().length} cores: other processes competed for the CPU, so absolute times are inflated `
    + '(the tools ran in turns, so they shared the conditions)');
}

const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
const report = {
  date: new Date().toISOString(),
  host: { cpu, cores: os.cpus().length, memory_gb: Math.round(os.totalmem() / 2 ** 30),
    load_average: { start: loadStart, end: loadEnd } },
  commit: spawnSync('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim(),
  rows: opts.rows, reps: opts.reps, threads: opts.threads, notes,
  results: results.map((r) => (r.skipped ? r : {
    task: r.task, via: r.via, input: r.input, input_bytes: r.inBytes, rows: r.rows, threads: r.threads,
    sluice: { seconds: r.sluice.seconds, runs: r.sluice.runs, peak_rss_mb: r.sluice.rssMb, output_bytes: r.sluice.outBytes ?? null },
    duckdb: r.duckdb ? { seconds: r.duckdb.seconds, runs: r.duckdb.runs, wall_seconds: r.duckdb.wallSeconds,
      peak_rss_mb: r.duckdb.rssMb, output_bytes: r.duckdb.outBytes } : null,
    ratio: r.duckdb ? r.sluice.seconds / r.duckdb.seconds : null,
  })),
};

say('');
say(formatTable(report));
for (const n of notes) say(`note: ${n}`);
if (opts.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
const resultsFile = opts.results ?? (opts.json ? null
  : path.join(REPO, 'bench', 'results', `${report.date.slice(0, 19).replace(/:/g, '')}.json`));
if (resultsFile) {
  fs.mkdirSync(path.dirname(resultsFile), { recursive: true });
  fs.writeFileSync(resultsFile, JSON.stringify(report, null, 2) + '\n');
  say(`results: ${resultsFile}`);
}
