// Small batches: N files of about 1 KB landed at once; one `sluice server
// --exit-when-idle` run takes them all to `committed`. Prints batches per
// second (from the first registration to the last commit, as the catalog
// records them) and the p50/p99 landing-to-committed latency, for the embedded
// backends (local store, SQLite) and, when the test services are running
// (SLUICE_TEST_PG_DSN, SLUICE_TEST_S3_ENDPOINT; scripts/test-services.sh), for
// a PostgreSQL catalog with the local store (the shared catalog's own cost)
// and with an S3 store (on s3rver, a single Node.js process that is the
// bottleneck of that scenario: watch its CPU).
//
//   node bench/small_batches.mjs --sluice build/release/src/sluice [--files 2000] [--workers 2]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

function args(argv) {
  const o = { files: 2000, workers: 2 };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--sluice') o.sluice = path.resolve(argv[++i]);
    else if (argv[i] === '--files') o.files = Number(argv[++i]);
    else if (argv[i] === '--workers') o.workers = Number(argv[++i]);
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (!o.sluice) throw new Error('--sluice BIN is required');
  return o;
}

function file(i) {
  const lines = ['id,name,amount,day'];
  for (let r = 0; r < 30; r++) lines.push(`${i * 30 + r},name-${r},${r}.50,2026-12-0${1 + (r % 7)}`);
  return lines.join('\n') + '\n';  // about 1 KB
}

function run(bin, a) {
  const r = spawnSync(bin, a, { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`sluice ${a.join(' ')}: ${r.status}\n${r.stderr}`);
  return r.stdout;
}

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function scenario(o, name, store, catalog, land) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-small-'));
  fs.mkdirSync(path.join(dir, 'pipelines'));
  fs.writeFileSync(path.join(dir, 'sluice.yaml'), [...store, `catalog: ${catalog}`,
    'pipelines_dir: ./pipelines', `workers: ${o.workers}`, 'threads: 1', 'poll_interval: 50ms', ''].join('\n'));
  fs.writeFileSync(path.join(dir, 'pipelines', 'small.yaml'), [
    'pipeline: small', 'source: { pattern: "*.csv", format: csv, settle: 0s }',
    'schema:', '  id: int64 not null', '  name: string', '  amount: decimal(12,2)', '  day: date',
    'outputs:', '  - table: small', ''].join('\n'));
  const config = path.join(dir, 'sluice.yaml');
  run(o.sluice, ['-c', config, 'validate']);
  for (let i = 0; i < o.files; i++) await land(dir, `f${String(i).padStart(5, '0')}.csv`, file(i));
  const t0 = process.hrtime.bigint();
  run(o.sluice, ['-c', config, 'server', '--exit-when-idle', '--log-level', 'warn']);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const batches = JSON.parse(run(o.sluice, ['-c', config, 'batches', '--json']));
  const done = batches.filter((b) => b.state === 'committed');
  if (done.length !== o.files) throw new Error(`${name}: ${done.length} of ${o.files} committed`);
  const first = Math.min(...done.map((b) => b.created_us));
  const last = Math.max(...done.map((b) => b.updated_us));
  const lat = done.map((b) => (b.updated_us - b.created_us) / 1000).sort((a, b) => a - b);
  return {
    scenario: name, files: o.files, workers: o.workers, wall_s: +wall.toFixed(2),
    batches_per_s: +(o.files / ((last - first) / 1e6)).toFixed(1),
    p50_ms: +quantile(lat, 0.5).toFixed(1), p99_ms: +quantile(lat, 0.99).toFixed(1),
  };
}

// A fresh database on the test PostgreSQL server; dropped by dropDatabases().
const databases = [];
function freshDatabase() {
  const admin = process.env.SLUICE_TEST_PG_DSN;
  const db = `sluice_bench_${process.pid}_${databases.length}`;
  spawnSync('psql', [admin, '-qXc', `CREATE DATABASE ${db}`]);
  databases.push(db);
  const u = new URL(admin);
  u.pathname = `/${db}`;
  return u.toString();
}
function dropDatabases() {
  for (const db of databases) {
    spawnSync('psql', [process.env.SLUICE_TEST_PG_DSN, '-qXc', `DROP DATABASE ${db} WITH (FORCE)`]);
  }
}

const localLanding = (dir, name, body) => {
  const d = path.join(dir, 'store', 'landing', 'small');
  fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(d, `.${name}`), body);
  fs.renameSync(path.join(d, `.${name}`), path.join(d, name));
};

const o = args(process.argv.slice(2));
const results = [];
results.push(await scenario(o, 'embedded (local store, SQLite)', ['store_root: ./store'], './catalog.db',
  localLanding));
if (process.env.SLUICE_TEST_PG_DSN) {
  // The catalog and queue on PostgreSQL alone: what the shared catalog costs.
  results.push(await scenario(o, 'PostgreSQL catalog, local store', ['store_root: ./store'],
    freshDatabase(), localLanding));
}
if (process.env.SLUICE_TEST_PG_DSN && process.env.SLUICE_TEST_S3_ENDPOINT) {
  process.env.AWS_ACCESS_KEY_ID ||= 'S3RVER';
  process.env.AWS_SECRET_ACCESS_KEY ||= 'S3RVER';
  const endpoint = process.env.SLUICE_TEST_S3_ENDPOINT;
  const bucket = process.env.SLUICE_TEST_S3_BUCKET || 'sluice-test';
  const prefix = `bench-${process.pid}`;
  results.push(await scenario(o, 'shared (S3 store on s3rver, PostgreSQL)',
    [`store_root: s3://${bucket}/${prefix}`, `s3_endpoint: ${endpoint}`], freshDatabase(),
    async (dir, name, body) => {
      const r = await fetch(`${endpoint}/${bucket}/${prefix}/landing/small/${name}`,
        { method: 'PUT', body });
      if (!r.ok) throw new Error(`PUT ${name}: ${r.status}`);
    }));
}
dropDatabases();
console.table(results);
