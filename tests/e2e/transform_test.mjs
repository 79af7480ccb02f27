// Transform steps end to end through the engine: expressions, routes,
// per-output steps (sql with a JOIN on a reference file), a SQLite output
// with its own aggregate, bad records from expressions; and determinism:
// the same input and pipeline give byte-identical Parquet at any thread count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { duckdb, sluice, sqlite, tempDir } from './lib.mjs';

const PIPELINE = `pipeline: orders
schema:
  id: int64 not null
  cust: int32
  qty: int32
  price: decimal(10,2)
  country: string
  note: string
references:
  customers: { file: ../reference/customers.csv }
transform:
  - filter: qty > 0
  - derive:
      total: qty * price
      unit: total / CAST(qty - 1 AS int32)
      region: "CASE WHEN country IN ('DE', 'FR') THEN 'eu' ELSE 'world' END"
  - route:
      eu: region = 'eu'
outputs:
  - table: orders_eu
    route: eu
  - table: orders_other
    route: other
  - table: orders_by_segment
    sql: >
      SELECT c.segment, count(*) AS orders, sum(o.total) AS revenue
      FROM input o LEFT JOIN customers c ON o.cust = c.id
      GROUP BY c.segment
  - sqlite: { path: out.db, table: by_country }
    transform:
      - aggregate:
          group_by: [country]
          aggregates: { n: count(*), max_total: max(total) }
on_bad_record: quarantine
max_bad_ratio: 0.5
`;

function makeProject(threads) {
  const dir = tempDir('sluice-transform-');
  fs.mkdirSync(path.join(dir, 'pipelines'));
  fs.mkdirSync(path.join(dir, 'reference'));
  fs.writeFileSync(path.join(dir, 'sluice.yaml'), [
    'store_root: ./store', 'catalog: ./store/catalog.db', 'pipelines_dir: ./pipelines',
    'workers: 1', `threads: ${threads}`, ''].join('\n'));
  fs.writeFileSync(path.join(dir, 'pipelines', 'orders.yaml'), PIPELINE);
  fs.writeFileSync(path.join(dir, 'reference', 'customers.csv'),
    'id,segment\n1,gold\n2,silver\n3,bronze\n');
  return dir;
}

// 30000 rows (about 1 MB, so decoding is split into chunks); qty 1 makes
// `unit` divide by zero (a bad record), qty 0 is filtered out.
function writeInput(dir) {
  const countries = ['DE', 'FR', 'US', 'JP', 'BR'];
  const lines = ['id,cust,qty,price,country,note'];
  for (let i = 1; i <= 30000; i++) {
    const qty = i % 97 === 0 ? 0 : i % 89 === 0 ? 1 : 2 + (i % 7);
    const cust = i % 11 === 0 ? '' : String(1 + (i % 5));
    lines.push(`${i},${cust},${qty},${(i % 1000) + 0.25},${countries[i % 5]},"note ${i}, ok"`);
  }
  const file = path.join(dir, 'orders.csv');
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

function sha(file) {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

function lakeFiles(dir, table) {
  const root = path.join(dir, 'store', 'lake', table);
  return fs.readdirSync(root, { recursive: true }).filter((f) => f.endsWith('.parquet')).sort()
    .map((f) => path.join(root, f));
}

test('filter, derive, route, per-output sql with a JOIN and a SQLite aggregate', async () => {
  const dir = makeProject(2);
  const input = writeInput(dir);
  const r = sluice(['-c', path.join(dir, 'sluice.yaml'), 'ingest', '-p', 'orders', input]);
  assert.equal(r.status, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /committed/);

  // Expected from the input, computed here independently.
  let kept = 0;
  let bad = 0;
  const eu = [];
  for (let i = 1; i <= 30000; i++) {
    const qty = i % 97 === 0 ? 0 : i % 89 === 0 ? 1 : 2 + (i % 7);
    if (qty === 0) continue;
    if (qty === 1) { bad++; continue; }
    kept++;
    if (['DE', 'FR'].includes(['DE', 'FR', 'US', 'JP', 'BR'][i % 5])) eu.push(i);
  }
  const glob = (t) => path.join(dir, 'store', 'lake', t, '**', '*.parquet');
  const [euCount] = await duckdb(`SELECT count(*)::INTEGER AS n, min(region) AS lo, max(region) AS hi
      FROM read_parquet('${glob('orders_eu')}')`);
  assert.deepEqual(euCount, { n: eu.length, lo: 'eu', hi: 'eu' });
  const [other] = await duckdb(`SELECT count(*)::INTEGER AS n FROM read_parquet('${glob('orders_other')}')`);
  assert.equal(other.n, kept - eu.length);

  // The JOIN's aggregate equals DuckDB's own join of the same data.
  const seg = await duckdb(`SELECT segment, orders::INTEGER AS orders, revenue::VARCHAR AS revenue
      FROM read_parquet('${glob('orders_by_segment')}') ORDER BY segment NULLS LAST`);
  const want = await duckdb(`SELECT c.segment, count(*)::INTEGER AS orders, sum(o.qty * o.price)::DECIMAL(18,2)::VARCHAR AS revenue
      FROM read_csv('${input}', header=true, columns={'id':'BIGINT','cust':'INTEGER','qty':'INTEGER','price':'DECIMAL(10,2)','country':'VARCHAR','note':'VARCHAR'}) o
      LEFT JOIN read_csv('${path.join(dir, 'reference', 'customers.csv')}', header=true) c ON o.cust = c.id
      WHERE o.qty > 1 GROUP BY c.segment ORDER BY c.segment NULLS LAST`);
  assert.deepEqual(seg, want);

  const byCountry = sqlite(path.join(dir, 'out.db'), 'SELECT country, n FROM by_country ORDER BY country');
  assert.equal(byCountry.length, 5);
  assert.equal(byCountry.reduce((a, x) => a + Number(x.n), 0), kept);

  // Division by zero in `unit` is a bad record naming the column.
  const q = fs.readdirSync(path.join(dir, 'store', 'quarantine'), { recursive: true })
    .filter((f) => f.endsWith('.ndjson')).map((f) => path.join(dir, 'store', 'quarantine', f));
  const recs = q.flatMap((f) => fs.readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l)));
  assert.equal(recs.length, bad);
  assert.equal(recs[0].field, 'unit');
  assert.match(recs[0].reason, /division by zero/);
});

test('the same input and pipeline give byte-identical Parquet at 1 and 2 threads', () => {
  const hashes = [];
  for (const threads of [1, 2]) {
    const dir = makeProject(threads);
    const input = writeInput(dir);
    const r = sluice(['-c', path.join(dir, 'sluice.yaml'), 'ingest', '-p', 'orders', input]);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const files = ['orders_eu', 'orders_other', 'orders_by_segment'].flatMap((t) => lakeFiles(dir, t));
    assert.ok(files.length >= 3);
    hashes.push(files.map((f) => `${path.basename(f)} ${sha(f)}`));
  }
  assert.deepEqual(hashes[0], hashes[1]);
});

test('a lookup reads a lake table that another pipeline fills, at its latest snapshot', async () => {
  const dir = tempDir('sluice-laketable-');
  fs.mkdirSync(path.join(dir, 'pipelines'));
  fs.writeFileSync(path.join(dir, 'sluice.yaml'), [
    'store_root: ./store', 'catalog: ./store/catalog.db', 'pipelines_dir: ./pipelines', 'workers: 1', ''].join('\n'));
  fs.writeFileSync(path.join(dir, 'pipelines', 'customers.yaml'), [
    'pipeline: customers', 'schema:', '  id: int32 not null', '  name: string',
    'transform:', '  - dedupe: { key: [id], keep: last }', 'outputs:', '  - table: customers', ''].join('\n'));
  // The schema is declared so the pipeline deploys before customers has data.
  fs.writeFileSync(path.join(dir, 'pipelines', 'orders.yaml'), [
    'pipeline: orders', 'schema:', '  id: int64 not null', '  cust: int32',
    'references:', '  customers: { table: customers, schema: { id: int32 not null, name: string } }',
    'transform:', '  - lookup: { from: customers, on: { cust: id }, columns: { name: customer } }',
    'outputs:', '  - table: orders', ''].join('\n'));
  const cfg = path.join(dir, 'sluice.yaml');
  const ingest = (pipeline, name, text) => {
    fs.writeFileSync(path.join(dir, name), text);
    const r = sluice(['-c', cfg, 'ingest', '-p', pipeline, path.join(dir, name)]);
    assert.equal(r.status, 0, r.stderr + r.stdout);
  };
  ingest('orders', 'o1.csv', 'id,cust\n1,7\n');  // no customers yet: NULL
  ingest('customers', 'c1.csv', 'id,name\n7,Ada\n8,Bob\n');
  ingest('orders', 'o2.csv', 'id,cust\n2,7\n3,8\n4,9\n');
  ingest('customers', 'c2.csv', 'id,name\n9,Cy\n');
  ingest('orders', 'o3.csv', 'id,cust\n5,9\n');
  const rows = await duckdb(`SELECT id::INTEGER AS id, customer FROM read_parquet('${path.join(dir, 'store', 'lake', 'orders', '**', '*.parquet')}') ORDER BY id`);
  assert.deepEqual(rows, [
    { id: 1, customer: null }, { id: 2, customer: 'Ada' }, { id: 3, customer: 'Bob' },
    { id: 4, customer: null }, { id: 5, customer: 'Cy' },
  ]);
});
