// The sluice command end to end: zero-config ingest read back by DuckDB,
// pipelines with bad records, duplicates, quarantine, replay, server drain.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { duckdb, killServers, land, sleep, sluice, sluiceOk, sqlite, startServer, tempDir } from './lib.mjs';

after(killServers);

function project(files) {
  const dir = tempDir('sluice-cli-');
  fs.mkdirSync(path.join(dir, 'pipelines'));
  fs.writeFileSync(path.join(dir, 'sluice.yaml'), [
    'store_root: ./store', 'catalog: ./store/catalog.db', 'pipelines_dir: ./pipelines',
    'workers: 2', 'poll_interval: 50ms', 'lease: 5s', ''].join('\n'));
  for (const [name, text] of Object.entries(files)) {
    fs.writeFileSync(path.join(dir, 'pipelines', name), text);
  }
  return dir;
}

test('ingest --table in an empty directory: infers, loads, DuckDB reads the same values', async () => {
  const dir = tempDir('sluice-zero-');
  const csv = [
    'id,name,price,day,ts,flag,ratio',
    '1,alpha,12.50,2026-01-02,2026-01-02 10:00:00,true,0.5',
    '2,"b, with comma",-3.25,1969-12-31,2026-01-02T23:59:59.123456Z,FALSE,1e-3',
    '3,"quote ""q""",0.00,2000-02-29,2026-01-03 00:00:00,True,',
    '4,,7.10,,,,2.5',
    '',
  ].join('\r\n');
  fs.writeFileSync(path.join(dir, 'sales.csv'), csv);
  const r = sluice(['ingest', '--table', 'sales', 'sales.csv'], { cwd: dir });
  assert.equal(r.status, 0, r.stderr + r.stdout);
  assert.match(r.stderr, /created the embedded default project/);
  assert.match(r.stderr, /created pipeline 'sales'/);
  assert.match(r.stdout, /committed/);
  assert.match(r.stdout, /table sales: 4 rows/);
  assert.ok(fs.existsSync(path.join(dir, '.sluice', 'pipelines', 'sales.yaml')));

  const glob = path.join(dir, '.sluice', 'store', 'lake', 'sales', '**', '*.parquet');
  const types = await duckdb(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${glob}'))`);
  assert.deepEqual(Object.fromEntries(types.map((t) => [t.column_name, t.column_type])), {
    id: 'INTEGER', name: 'VARCHAR', price: 'DECIMAL(4,2)', day: 'DATE',
    ts: 'TIMESTAMP WITH TIME ZONE', flag: 'BOOLEAN', ratio: 'DOUBLE',
  });
  const rows = await duckdb(`SELECT id, name, price::VARCHAR AS price, day::VARCHAR AS day,
      strftime(ts AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S.%f') AS ts, flag, ratio
      FROM read_parquet('${glob}') ORDER BY id`);
  assert.deepEqual(rows, [
    { id: 1, name: 'alpha', price: '12.50', day: '2026-01-02', ts: '2026-01-02 10:00:00.000000', flag: true, ratio: 0.5 },
    { id: 2, name: 'b, with comma', price: '-3.25', day: '1969-12-31', ts: '2026-01-02 23:59:59.123456', flag: false, ratio: 0.001 },
    { id: 3, name: 'quote "q"', price: '0.00', day: '2000-02-29', ts: '2026-01-03 00:00:00.000000', flag: true, ratio: null },
    { id: 4, name: null, price: '7.10', day: null, ts: null, flag: null, ratio: 2.5 },
  ]);

  // The same file again is recognised, not loaded twice.
  const again = sluiceOk(['ingest', '--table', 'sales', 'sales.csv'], { cwd: dir });
  assert.match(again.stdout, /duplicate/);
  assert.match(again.stdout, /table sales: 4 rows/);
});

const ORDERS = `pipeline: orders
source: { pattern: "*.csv*", format: csv, csv: { null_values: ["", "NULL"] } }
schema:
  id: int64 not null
  qty: int32
  price: decimal(8,2)
  day: date not null
on_bad_record: quarantine
max_bad_ratio: 0.25
transform:
  - dedupe: { key: [id], keep: last }
outputs:
  - table: orders
    partition_by: [day]
  - sqlite: { path: out.db, table: orders }
`;

test('bad records are quarantined with file, line, field and reason; over the ratio the batch is quarantined', async () => {
  const dir = project({ 'orders.yaml': ORDERS });
  const cfg = path.join(dir, 'sluice.yaml');
  const good = 'id,qty,price,day\n1,2,3.50,2026-01-01\n2,"x\ny",1.00,2026-01-01\n3,1,2.00,2026-01-02\n1,5,3.75,2026-01-01\n4,NULL,9.99,2026-01-02\n';
  fs.writeFileSync(path.join(dir, 'good.csv'), good);
  fs.writeFileSync(path.join(dir, 'good.csv.gz'), zlib.gzipSync(good.replace('4,NULL', '5,NULL').replace(/^1,/gm, '11,')));
  const bad = 'id,qty,price,day\n1,1,1.00,2026-01-01\n2,two,1.00,2026-01-01\n3,1,1.234,2026-01-01\n';
  fs.writeFileSync(path.join(dir, 'bad.csv'), bad);

  const r = sluice(['-c', cfg, 'ingest', '--pipeline', 'orders', path.join(dir, 'good.csv'), path.join(dir, 'good.csv.gz'), path.join(dir, 'bad.csv')]);
  assert.equal(r.status, 3, r.stdout + r.stderr);  // one batch quarantined
  const batches = JSON.parse(sluiceOk(['-c', cfg, 'batches', '--json']).stdout);
  const byKey = Object.fromEntries(batches.map((b) => [path.basename(b.object_key), b]));
  assert.equal(byKey['good.csv'].state, 'committed');
  assert.equal(byKey['good.csv'].rows_read, 5);
  assert.equal(byKey['good.csv'].rows_quarantined, 1);
  assert.equal(byKey['good.csv'].duplicates_removed, 1);
  assert.equal(byKey['good.csv'].rows_written, 3);
  assert.equal(byKey['good.csv.gz'].state, 'committed');
  assert.equal(byKey['bad.csv'].state, 'quarantined');
  assert.match(byKey['bad.csv'].reason, /2 of 3 records are bad/);
  assert.match(byKey['bad.csv'].reason, /bad\.csv:3: field 'qty'/);

  const q = path.join(dir, 'store', 'quarantine', 'orders', String(byKey['good.csv'].id), 'a1', 'bad_records.ndjson');
  const rec = JSON.parse(fs.readFileSync(q, 'utf8').trim());
  assert.equal(rec.line, 3);
  assert.equal(rec.field, 'qty');
  assert.match(rec.reason, /int32/);
  assert.equal(rec.raw, '2,"x\ny",1.00,2026-01-01');

  // Lake and SQLite sink: the two committed batches, deduplicated (keep last).
  const glob = path.join(dir, 'store', 'lake', 'orders', '**', '*.parquet');
  const lake = await duckdb(`SELECT id::INTEGER AS id, qty, price::VARCHAR AS price FROM read_parquet('${glob}') ORDER BY id`);
  // dedupe works within a batch: id 3 is in both batches
  assert.deepEqual(lake.map((x) => x.id), [1, 3, 3, 4, 5, 11]);
  assert.equal(lake.find((x) => x.id === 1).price, '3.75');
  const sink = sqlite(path.join(dir, 'out.db'), 'SELECT id, qty, price FROM orders ORDER BY id');
  assert.deepEqual(sink.map((x) => x.id), lake.map((x) => x.id));
  assert.equal(sink.find((x) => x.id === 1).price, '3.75');
  assert.ok(fs.existsSync(path.join(dir, 'store', 'lake', 'orders', 'day=2026-01-01')));

  // Fix the spec (tolerate more bad rows) and replay the quarantined batch on the new version.
  fs.writeFileSync(path.join(dir, 'pipelines', 'orders.yaml'), ORDERS.replace('max_bad_ratio: 0.25', 'max_bad_ratio: 0.9'));
  const rep = sluice(['-c', cfg, 'replay', String(byKey['bad.csv'].id), '--latest-version']);
  assert.equal(rep.status, 0, rep.stdout + rep.stderr);
  const after = JSON.parse(sluiceOk(['-c', cfg, 'batches', '--json']).stdout).find((b) => b.id === byKey['bad.csv'].id);
  assert.equal(after.state, 'committed');
  assert.notEqual(after.pipeline_version, byKey['bad.csv'].pipeline_version);

  // Replay a committed batch on a new version that drops a row: in one step
  // its lake files are replaced (a new snapshot) and its SQLite rows too,
  // while the other batches' rows stay as they were.
  const sinkBefore = sqlite(path.join(dir, 'out.db'), 'SELECT id, _sluice_batch_id AS b FROM orders ORDER BY id');
  const goodId = byKey['good.csv'].id;
  assert.deepEqual(sinkBefore.filter((x) => x.b === goodId).map((x) => x.id), [1, 3, 4]);
  fs.writeFileSync(path.join(dir, 'pipelines', 'orders.yaml'),
    ORDERS.replace('max_bad_ratio: 0.25', 'max_bad_ratio: 0.9').replace('transform:\n', 'transform:\n  - filter: id <> 4\n'));
  const rep2 = sluice(['-c', cfg, 'replay', String(goodId), '--latest-version']);
  assert.equal(rep2.status, 0, rep2.stdout + rep2.stderr);
  assert.match(rep2.stdout, /was committed/);
  const sinkAfter = sqlite(path.join(dir, 'out.db'), 'SELECT id, _sluice_batch_id AS b FROM orders ORDER BY id');
  assert.deepEqual(sinkAfter.filter((x) => x.b === goodId).map((x) => x.id), [1, 3]);
  assert.deepEqual(sinkAfter.filter((x) => x.b !== goodId), sinkBefore.filter((x) => x.b !== goodId));
  const ledger = sqlite(path.join(dir, 'out.db'), `SELECT rows FROM _sluice_ledger WHERE batch_id = ${goodId}`);
  assert.deepEqual(ledger, [{ rows: 2 }]);
  const lakeAfter = await duckdb(`SELECT id::INTEGER AS id FROM read_parquet('${glob}') ORDER BY id`);
  const bad2 = await duckdb(`SELECT count(*)::INTEGER AS n FROM read_parquet('${glob}') WHERE id = 4`);
  assert.equal(bad2[0].n, 0);
  assert.deepEqual(lakeAfter.map((x) => x.id), sinkAfter.map((x) => x.id));
  const check = sluice(['-c', cfg, 'check']);
  assert.equal(check.status, 0, check.stdout + check.stderr);
});

test('on_bad_record: fail names the file, line and field', () => {
  const dir = project({ 'strict.yaml': ORDERS.replace('pipeline: orders', 'pipeline: strict').replace('on_bad_record: quarantine', 'on_bad_record: fail').replace(/table: orders/g, 'table: strict') });
  fs.writeFileSync(path.join(dir, 'in.csv'), 'id,qty,price,day\n1,1,1.00,2026-01-01\n2,1,1.00,not-a-date\n');
  const r = sluice(['-c', path.join(dir, 'sluice.yaml'), 'ingest', '-p', 'strict', path.join(dir, 'in.csv')]);
  assert.equal(r.status, 3);
  assert.match(r.stdout, /failed/);
  assert.match(r.stdout, /in\.csv:3: field 'day'/);
});

test('validate reports spec errors with file and line', () => {
  const dir = project({ 'broken.yaml': 'pipeline: broken\nschema:\n  id: int64\n  x: decimal(40,2)\noutputs:\n  - table: broken\n' });
  const r = sluice(['-c', path.join(dir, 'sluice.yaml'), 'validate']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /broken\.yaml:4/);
  assert.match(r.stderr, /precision/);
});

test('validate checks every spec, prints each output schema and points into expressions', () => {
  const good = 'pipeline: good\nschema:\n  id: int64 not null\n  amount: decimal(10,2)\n'
    + 'transform:\n  - filter: amount > 0\n  - derive: { doubled: amount * 2 }\n'
    + 'outputs:\n  - table: good\n  - table: good_totals\n    sql: SELECT count(*) AS n, sum(doubled) AS total FROM input\n';
  const bad = 'pipeline: bad\nschema:\n  id: int64\ntransform:\n  - filter: "idd > 1"\noutputs:\n  - table: bad\n';
  const dir = project({ 'good.yaml': good, 'bad.yaml': bad });
  const cfg = path.join(dir, 'sluice.yaml');
  const r = sluice(['-c', cfg, 'validate']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /bad\.yaml:5:14: filter: unknown column 'idd' \(did you mean 'id'\? columns: id\)\n {4}idd > 1\n {4}\^/);
  assert.match(r.stderr, /1 of 2 pipeline spec\(s\) have errors/);
  assert.match(r.stdout, /output table:good_totals, 1 own step\(s\):\n {4}n {6}int64 not null\n {4}total {2}decimal\(18,2\)/);
  const one = sluice(['-c', cfg, 'validate', 'good', '--json']);
  assert.equal(one.status, 0, one.stderr);
  const j = JSON.parse(one.stdout);
  assert.equal(j.length, 1);
  assert.deepEqual(j[0].outputs[0].schema.map((f) => f.name), ['id', 'amount', 'doubled']);
  assert.equal(j[0].outputs[0].schema[2].type, 'decimal(11,2)');
});

test('the pipeline spec in README.md validates', () => {
  const readme = fs.readFileSync(path.join(process.env.SLUICE_SOURCE_DIR, 'README.md'), 'utf8');
  const at = readme.indexOf('## Pipeline spec reference');
  const block = /```yaml\n([\s\S]*?)```/.exec(readme.slice(at))[1];
  const dir = project({ 'orders.yaml': block });
  fs.mkdirSync(path.join(dir, 'reference'));
  fs.writeFileSync(path.join(dir, 'reference', 'customers.csv'), 'id,name\n1,Ada\n');
  const r = sluice(['-c', path.join(dir, 'sluice.yaml'), 'validate']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /output table:revenue_by_customer, 1 own step\(s\):/);
});

test('server: landing files are registered once, duplicates recorded, SIGTERM drains', async () => {
  const dir = project({ 'orders.yaml': ORDERS });
  const cfg = path.join(dir, 'sluice.yaml');
  const landing = path.join(dir, 'store', 'landing', 'orders');
  const server = startServer(cfg);
  const content = 'id,qty,price,day\n1,1,1.00,2026-01-01\n2,2,2.00,2026-01-02\n';
  land(landing, 'a.csv', content);
  land(landing, 'sub/b.csv', content);  // same bytes under another name
  land(landing, 'c.csv', content.replace('1,1,1.00', '7,1,1.00'));
  fs.writeFileSync(path.join(landing, 'd.csv.tmp'), content);  // still being written: ignored
  for (let i = 0; i < 100; i++) {
    const b = JSON.parse(sluiceOk(['-c', cfg, 'batches', '--json']).stdout);
    if (b.length === 2 && b.every((x) => x.state === 'committed')) break;
    await sleep(100);
  }
  server.kill('SIGTERM');
  const { code } = await server.exited;
  assert.equal(code, 0, server.stderrText);
  const batches = JSON.parse(sluiceOk(['-c', cfg, 'batches', '--json']).stdout);
  assert.equal(batches.length, 2);
  assert.deepEqual(batches.map((b) => b.state), ['committed', 'committed']);
  assert.equal(batches.reduce((s, b) => s + b.duplicate_landings, 0), 1);
  assert.ok(fs.existsSync(path.join(landing, 'd.csv.tmp')));
  assert.ok(!fs.existsSync(path.join(landing, 'a.csv')));
  const status = JSON.parse(sluiceOk(['-c', cfg, 'status', '--json']).stdout);
  assert.equal(status.batches_by_state.committed, 2);
  assert.equal(status.tables[0].rows, 4);
});

test('a larger CSV (quoted text, decimals, timestamps) reads back from the lake identically', async () => {
  const dir = tempDir('sluice-large-');
  const words = ['alpha', 'beta', 'gamma', 'delta', 'fox', 'dog'];
  const rows = ['order_id,customer_id,quantity,unit_price,currency,created_at,comment'];
  let s = 12345;
  const rnd = (n) => ((s = (s * 1103515245 + 12345) % 2147483648) % n);
  for (let i = 0; i < 200_000; i++) {
    let c = Array.from({ length: 1 + rnd(4) }, () => words[rnd(6)]).join(' ');
    if (rnd(10) === 0) c = `"${c}, with ""quote"""`;
    const price = `${rnd(100000)}.${String(rnd(100)).padStart(2, '0')}`;
    const ts = `2026-${String(1 + rnd(12)).padStart(2, '0')}-${String(1 + rnd(28)).padStart(2, '0')}T${String(rnd(24)).padStart(2, '0')}:00:${String(rnd(60)).padStart(2, '0')}Z`;
    rows.push(`${i * 7919},${rnd(1000000)},${1 + rnd(99)},${price},${['EUR', 'USD'][rnd(2)]},${ts},${c}`);
  }
  const file = path.join(dir, 'big.csv');
  fs.writeFileSync(file, rows.join('\n') + '\n');
  const r = sluice(['ingest', '--table', 'big', 'big.csv'], { cwd: dir });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const lake = path.join(dir, '.sluice', 'store', 'lake', 'big', '**', '*.parquet');
  const agg = (src) => `SELECT count(*)::BIGINT AS n, sum(hash(order_id, customer_id, quantity,
      unit_price::VARCHAR, currency, epoch_us(created_at), comment))::VARCHAR AS h FROM ${src}`;
  const [fromLake] = await duckdb(agg(`read_parquet('${lake}')`));
  const [fromCsv] = await duckdb(agg(`read_csv('${file}', header = true, columns = {
      'order_id': 'INTEGER', 'customer_id': 'INTEGER', 'quantity': 'INTEGER',
      'unit_price': 'DECIMAL(7,2)', 'currency': 'VARCHAR', 'created_at': 'TIMESTAMPTZ',
      'comment': 'VARCHAR'})`));
  assert.equal(fromLake.n, 200000n);
  assert.deepEqual(fromLake, fromCsv);
});
