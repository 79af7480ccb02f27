// Parquet input end to end: DuckDB writes Parquet files, the sluice binary
// ingests them into the lake, and DuckDB compares the lake table with the
// source, value for value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { duckdb, sluice, tempDir } from './lib.mjs';

const COLUMNS = `i::BIGINT AS id,
  CASE WHEN i % 9 = 0 THEN NULL ELSE (i * 7 - 3000)::INTEGER END AS qty,
  ((i * 12345) % 1000000 / 100.0)::DECIMAL(12,2) AS amount,
  CASE WHEN i % 5 = 0 THEN NULL WHEN i % 5 = 1 THEN '' ELSE 'n\u00e9 ' || i END AS name,
  DATE '2020-01-01' + (i % 1000)::INTEGER AS day,
  make_timestamp(1600000000000000 + i * 1000001) AS ts,
  i % 3 = 0 AS flag,
  (i / 7.0)::DOUBLE AS ratio`;

// Rows of a relation as text, for comparisons across types.
const NORMALIZED = `id, qty, amount::VARCHAR AS amount, name, day::VARCHAR AS day,
  epoch_us(ts) AS ts, flag, ratio`;

test('ingest --table of DuckDB-written Parquet (v1 and v2, several codecs) matches the source', async () => {
  const dir = tempDir('sluice-pq-');
  const variants = [
    ['v1_snappy.parquet', 'COMPRESSION snappy, ROW_GROUP_SIZE 2048'],
    ['v2_zstd.parquet', 'COMPRESSION zstd, PARQUET_VERSION V2'],
    ['v1_gzip_plain.parquet', 'COMPRESSION gzip, DICTIONARY_SIZE_LIMIT 1'],
  ];
  for (const [name, options] of variants) {
    const src = path.join(dir, name);
    await duckdb(`COPY (SELECT ${COLUMNS} FROM range(20000) r(i)) TO '${src}' (FORMAT parquet, ${options})`);
  }
  for (const [name] of variants) {
    const table = name.replace('.parquet', '');
    const r = sluice(['ingest', '--table', table, name], { cwd: dir });
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.match(r.stdout, new RegExp(`table ${table}: 20000 rows`));
    const lake = path.join(dir, '.sluice', 'store', 'lake', table, '**', '*.parquet');
    const src = path.join(dir, name);
    for (const [a, b] of [[src, lake], [lake, src]]) {
      const diff = await duckdb(`SELECT count(*)::INTEGER AS n FROM (
          SELECT ${NORMALIZED} FROM read_parquet('${a}')
          EXCEPT ALL SELECT ${NORMALIZED} FROM read_parquet('${b}'))`);
      assert.equal(diff[0].n, 0, `${a} has rows ${b} lacks`);
    }
  }
});

test('infer reads the schema of a Parquet file from its footer', async () => {
  const dir = tempDir('sluice-pq-infer-');
  const src = path.join(dir, 'in.parquet');
  await duckdb(`COPY (SELECT ${COLUMNS} FROM range(10) r(i)) TO '${src}' (FORMAT parquet)`);
  const r = sluice(['infer', src]);
  assert.equal(r.status, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /format: parquet/);
  for (const line of ['id: int64', 'qty: int32', 'amount: decimal\\(12,2\\)', 'name: string',
    'day: date', 'ts: timestamp', 'flag: bool', 'ratio: float64']) {
    assert.match(r.stdout, new RegExp(line));
  }
});

test('a Parquet column that does not fit the declared type quarantines the row with its row number', async () => {
  const dir = tempDir('sluice-pq-bad-');
  fs.mkdirSync(path.join(dir, 'pipelines'));
  fs.writeFileSync(path.join(dir, 'sluice.yaml'), [
    'store_root: ./store', 'catalog: ./store/catalog.db', 'pipelines_dir: ./pipelines', ''].join('\n'));
  fs.writeFileSync(path.join(dir, 'pipelines', 'p.yaml'), `pipeline: p
source: { pattern: "*.parquet", format: parquet }
schema:
  id: int64 not null
  small: int32
on_bad_record: quarantine
max_bad_ratio: 0.5
outputs:
  - table: p
`);
  const src = path.join(dir, 'in.parquet');
  await duckdb(`COPY (SELECT i::BIGINT AS id, CASE WHEN i = 3 THEN 9999999999 ELSE i END::BIGINT AS small,
      'ignored' AS extra FROM range(10) r(i)) TO '${src}' (FORMAT parquet)`);
  const r = sluice(['-c', path.join(dir, 'sluice.yaml'), 'ingest', '--pipeline', 'p', src]);
  assert.equal(r.status, 0, r.stderr + r.stdout);
  const lake = path.join(dir, 'store', 'lake', 'p', '**', '*.parquet');
  const rows = await duckdb(`SELECT id::INTEGER AS id, small FROM read_parquet('${lake}') ORDER BY id`);
  assert.deepEqual(rows.map((x) => x.id), [0, 1, 2, 4, 5, 6, 7, 8, 9]);
  const bad = fs.readFileSync(
    fs.readdirSync(path.join(dir, 'store', 'quarantine', 'p'), { recursive: true })
      .map((f) => path.join(dir, 'store', 'quarantine', 'p', f))
      .find((f) => f.endsWith('bad_records.ndjson')), 'utf8').trim().split('\n').map(JSON.parse);
  assert.equal(bad.length, 1);
  assert.equal(bad[0].line, 4);
  assert.equal(bad[0].field, 'small');
  assert.match(bad[0].reason, /9999999999/);
});
