// Exactly-once against operator mistakes (issue 9): a store used with another
// or an emptied catalog, lake files deleted, truncated or changed behind
// sluice's back, archives that no longer hold what was registered. `sluice
// check` finds each, `sluice check --repair` rebuilds what it can, and DuckDB
// reads the result back.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { duckdb, killServers, sluice, sluiceOk, tempDir } from './lib.mjs';

after(killServers);

const SPEC = `pipeline: orders
source: { pattern: "*.csv", format: csv }
schema:
  id: int64 not null
  amount: decimal(10,2)
outputs:
  - table: orders
`;

function project() {
  const dir = tempDir('sluice-integrity-');
  fs.mkdirSync(path.join(dir, 'pipelines'));
  fs.writeFileSync(path.join(dir, 'sluice.yaml'),
    ['store_root: ./store', 'catalog: ./catalog.db', 'pipelines_dir: ./pipelines', ''].join('\n'));
  fs.writeFileSync(path.join(dir, 'pipelines', 'orders.yaml'), SPEC);
  return dir;
}

function csv(first, n) {
  let s = 'id,amount\n';
  for (let i = first; i < first + n; i++) s += `${i},${i}.25\n`;
  return s;
}

function ingest(dir, name, content) {
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return sluiceOk(['-c', path.join(dir, 'sluice.yaml'), 'ingest', '-p', 'orders', file]);
}

function lakeFiles(dir) {
  const root = path.join(dir, 'store', 'lake', 'orders');
  return fs.readdirSync(root).filter((f) => f.endsWith('.parquet')).map((f) => path.join(root, f));
}

// The ids in the table's current snapshot, as the catalog lists its files.
async function lakeIds(dir) {
  const tables = JSON.parse(sluiceOk(['-c', path.join(dir, 'sluice.yaml'), 'tables', '--json'])
    .stdout);
  const files = tables.find((t) => t.name === 'orders').data_files.map((f) => `'${f.path}'`);
  const rows = await duckdb(`SELECT id FROM read_parquet([${files.join(', ')}]) ORDER BY id`);
  return rows.map((r) => Number(r.id));
}

function check(dir, ...args) {
  const r = sluice(['-c', path.join(dir, 'sluice.yaml'), 'check', '--json', ...args]);
  return { status: r.status, report: JSON.parse(r.stdout), stderr: r.stderr };
}

test('an emptied catalog.db is refused instead of overwriting committed files', async () => {
  const dir = project();
  ingest(dir, 'a.csv', csv(1, 1000));
  const before = lakeFiles(dir).map((f) => [f, fs.readFileSync(f)]);
  fs.truncateSync(path.join(dir, 'catalog.db'), 0);
  for (const s of ['-wal', '-shm']) fs.rmSync(path.join(dir, 'catalog.db' + s), { force: true });
  fs.writeFileSync(path.join(dir, 'b.csv'), csv(5000, 10));
  const r = sluice(['-c', path.join(dir, 'sluice.yaml'), 'ingest', '-p', 'orders',
    path.join(dir, 'b.csv')]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /belongs to catalog/);
  const st = sluice(['-c', path.join(dir, 'sluice.yaml'), 'status']);
  assert.notEqual(st.status, 0, 'status must not silently start a fresh catalog');
  for (const [f, bytes] of before) assert.deepEqual(fs.readFileSync(f), bytes, f);
  const rows = await duckdb(
    `SELECT count(*) AS n FROM read_parquet('${path.join(dir, 'store/lake/orders')}/*.parquet')`);
  assert.equal(Number(rows[0].n), 1000);
});

test('two projects pointed at one store_root: the second is refused', () => {
  const dir = project();
  ingest(dir, 'a.csv', csv(1, 10));
  const other = path.join(dir, 'other.yaml');
  fs.writeFileSync(other,
    ['store_root: ./store', 'catalog: ./other.db', 'pipelines_dir: ./pipelines', ''].join('\n'));
  const r = sluice(['-c', other, 'status']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /belongs to catalog/);
});

test('check finds missing, truncated, changed and unknown lake files and changed archives; --repair rebuilds', async () => {
  const dir = project();
  ingest(dir, 'a.csv', csv(1, 100));
  ingest(dir, 'b.csv', csv(101, 100));
  ingest(dir, 'c.csv', csv(201, 100));
  ingest(dir, 'd.csv', csv(301, 100));
  let c = check(dir);
  assert.equal(c.status, 0, JSON.stringify(c.report));
  assert.equal(c.report.files_checked, 4);
  assert.equal(c.report.archives_checked, 4);

  const files = lakeFiles(dir).sort();
  const byBatch = (b) => files.find((f) => path.basename(f).startsWith(`part-b${b}-`));
  fs.rmSync(byBatch(1));                                        // deleted
  fs.truncateSync(byBatch(2), 100);                             // truncated
  const f3 = fs.readFileSync(byBatch(3));                       // same size, other bytes
  f3[f3.length >> 1] ^= 0xff;
  fs.writeFileSync(byBatch(3), f3);
  fs.writeFileSync(path.join(dir, 'store/lake/orders/stray.parquet'), 'not ours');
  // Batch 4's archived input no longer holds what was registered.
  const archive = JSON.parse(sluiceOk(['-c', path.join(dir, 'sluice.yaml'), 'batches', '--json'])
    .stdout).find((b) => b.id === 4).archive_key;
  fs.appendFileSync(path.join(dir, 'store', archive), '999,9.99\n');

  c = check(dir);
  assert.equal(c.status, 3);
  const kinds = c.report.problems.map((p) => `${p.kind}:${p.batch_id}`).sort();
  assert.deepEqual(kinds, ['archive:4', 'corrupt:3', 'missing:1', 'truncated:2', 'unknown:0']);
  // --quick compares sizes only: the changed bytes of batch 3 go unseen.
  const quick = check(dir, '--quick');
  assert.ok(!quick.report.problems.some((p) => p.kind === 'corrupt'));

  c = check(dir, '--repair');
  const repaired = c.report.repairs.map((r) => `${r.batch_id}:${r.state}`).sort();
  assert.deepEqual(repaired, ['1:committed', '2:committed', '3:committed']);
  assert.equal(c.status, 3, 'the stray file and the changed archive remain');
  c = check(dir);
  assert.deepEqual(c.report.problems.map((p) => p.kind).sort(), ['archive', 'unknown']);
  // Every row of batches 1-3 is back exactly once; batch 4's files were untouched.
  const ids = await lakeIds(dir);
  assert.equal(ids.length, 400);
  assert.equal(new Set(ids).size, 400);
  // The replaced files left lake/ (kept under retired/), so a reader globbing
  // lake/ sees each row once too.
  fs.rmSync(path.join(dir, 'store/lake/orders/stray.parquet'));
  const [glob] = await duckdb(`SELECT count(*) AS n, count(DISTINCT id) AS d FROM
    read_parquet('${path.join(dir, 'store/lake/orders')}/*.parquet')`);
  assert.deepEqual([Number(glob.n), Number(glob.d)], [400, 400]);
  assert.ok(fs.existsSync(path.join(dir, 'store/retired/lake/orders')));
});
