// `sluice convert IN OUT` end to end: outputs read back by DuckDB, DuckDB's
// own Parquet read by sluice, bad records, --schema, compression, errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { duckdb, sluice, sluiceOk, tempDir } from './lib.mjs';

const SCHEMA = `id: int64 not null
qty: int32
price: decimal(12,2)
name: string
day: date
ts: timestamp
ok: bool
ratio: float64
`;

// Awkward values: quotes, delimiters and newlines in strings, an empty string
// next to a NULL, unicode, extremes.
const CSV = [
  'id,qty,price,name,day,ts,ok,ratio',
  '1,2,12.50,plain,2026-01-02,2026-01-02 10:00:00,true,0.5',
  '2,-2147483648,-0.07,"comma, ""quote""",1969-12-31,1969-12-31T23:59:59.999999Z,false,-1e-300',
  '3,2147483647,9999999999.99,"two\nlines",0001-01-01,2000-02-29T12:00:00+02:00,TRUE,1.7976931348623157e308',
  '9223372036854775807,,,"",,,,',
  '-9223372036854775808,0,0,,2024-02-29,,,',
  '6,1,1.00,日本語 ünïcödé 😀,2024-03-15,2024-03-15T10:20:30.5Z,f,0',
  '',
].join('\n');

function writeFiles(dir, files) {
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
}

const ROWS_SQL = (from) => `SELECT id::VARCHAR AS id, qty, price::VARCHAR AS price, name,
    day::VARCHAR AS day, strftime(ts AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%f') AS ts, ok, ratio
    FROM ${from} ORDER BY id::HUGEINT`;

const EXPECTED = [
  { id: '-9223372036854775808', qty: 0, price: '0.00', name: null, day: '2024-02-29', ts: null, ok: null, ratio: null },
  { id: '1', qty: 2, price: '12.50', name: 'plain', day: '2026-01-02', ts: '2026-01-02T10:00:00.000000', ok: true, ratio: 0.5 },
  { id: '2', qty: -2147483648, price: '-0.07', name: 'comma, "quote"', day: '1969-12-31', ts: '1969-12-31T23:59:59.999999', ok: false, ratio: -1e-300 },
  { id: '3', qty: 2147483647, price: '9999999999.99', name: 'two\nlines', day: '0001-01-01', ts: '2000-02-29T10:00:00.000000', ok: true, ratio: 1.7976931348623157e308 },
  { id: '6', qty: 1, price: '1.00', name: '日本語 ünïcödé 😀', day: '2024-03-15', ts: '2024-03-15T10:20:30.500000', ok: false, ratio: 0 },
  { id: '9223372036854775807', qty: null, price: null, name: '', day: null, ts: null, ok: null, ratio: null },
];

test('CSV -> Parquet with --schema: DuckDB reads the same values and types', async () => {
  const dir = tempDir('sluice-convert-');
  writeFiles(dir, { 'in.csv': CSV, 'schema.yaml': SCHEMA });
  const out = path.join(dir, 'out', 'orders.parquet');  // the directory is created
  const r = sluiceOk(['convert', path.join(dir, 'in.csv'), out, '--schema', path.join(dir, 'schema.yaml'), '--json', '-v', '--sync']);
  const summary = JSON.parse(r.stdout);
  assert.equal(summary.rows, 6);
  assert.equal(summary.bad_records, 0);
  assert.equal(summary.to, 'parquet');
  assert.equal(summary.output_bytes, fs.statSync(out).size);
  assert.match(r.stderr, /schema from .*schema\.yaml/);
  assert.match(r.stderr, /6 rows, 0 bad/);
  assert.deepEqual(fs.readdirSync(path.dirname(out)), ['orders.parquet']);  // no temporary left

  const types = await duckdb(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${out}'))`);
  assert.deepEqual(Object.fromEntries(types.map((t) => [t.column_name, t.column_type])), {
    id: 'BIGINT', qty: 'INTEGER', price: 'DECIMAL(12,2)', name: 'VARCHAR', day: 'DATE',
    ts: 'TIMESTAMP WITH TIME ZONE', ok: 'BOOLEAN', ratio: 'DOUBLE',
  });
  assert.deepEqual(await duckdb(ROWS_SQL(`read_parquet('${out}')`)), EXPECTED);
  const codec = await duckdb(`SELECT DISTINCT compression FROM parquet_metadata('${out}')`);
  assert.deepEqual(codec.map((c) => c.compression), ['ZSTD']);
});

test('CSV -> Parquet -> CSV -> NDJSON keeps every value; DuckDB reads the CSV and NDJSON', async () => {
  const dir = tempDir('sluice-convert-');
  writeFiles(dir, { 'in.csv': CSV, 'schema.yaml': SCHEMA });
  const p = (n) => path.join(dir, n);
  sluiceOk(['convert', p('in.csv'), p('a.parquet'), '--schema', p('schema.yaml'), '--compression', 'snappy']);
  sluiceOk(['convert', p('a.parquet'), p('b.csv'), '--threads', '1']);
  sluiceOk(['convert', p('b.csv'), p('c.ndjson'), '--schema', p('schema.yaml')]);
  sluiceOk(['convert', p('c.ndjson'), p('d.parquet'), '--schema', p('schema.yaml')]);
  // NULL is an empty field, an empty string is "" (DuckDB needs
  // allow_quoted_nulls=false to read "" as an empty string rather than NULL).
  const csv = fs.readFileSync(p('b.csv'), 'utf8');
  assert.match(csv, /^9223372036854775807,,,"",,,,$/m);
  assert.match(csv, /^2,-2147483648,-0.07,"comma, ""quote""",1969-12-31,1969-12-31T23:59:59.999999Z,false,-1e-300$/m);
  const cols = `columns={id: 'BIGINT', qty: 'INTEGER', price: 'DECIMAL(12,2)', name: 'VARCHAR',
      day: 'DATE', ts: 'TIMESTAMPTZ', ok: 'BOOLEAN', ratio: 'DOUBLE'}`;
  assert.deepEqual(await duckdb(ROWS_SQL(`read_csv('${p('b.csv')}', header=true, allow_quoted_nulls=false, ${cols})`)), EXPECTED);
  assert.deepEqual(await duckdb(ROWS_SQL(`read_json('${p('c.ndjson')}', format='newline_delimited', ${cols})`)), EXPECTED);
  assert.deepEqual(await duckdb(ROWS_SQL(`read_parquet('${p('d.parquet')}')`)), EXPECTED);
});

test('Parquet written by DuckDB -> CSV and NDJSON (gzip, zstd) equal DuckDB\'s view of the data', async () => {
  const dir = tempDir('sluice-convert-');
  const src = path.join(dir, 'duck.parquet');
  await duckdb(`COPY (SELECT i::BIGINT AS id, (i % 7)::INTEGER AS qty, (i * 1.25)::DECIMAL(12,2) AS price,
      CASE WHEN i % 5 = 0 THEN NULL WHEN i % 5 = 1 THEN '' ELSE 'name "' || i || '", x' END AS name,
      DATE '2024-01-01' + (i % 400)::INTEGER AS day,
      TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_microseconds(i * 1000003) AS ts
      FROM range(0, 50000) t(i)) TO '${src}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 10000)`);
  const csv = path.join(dir, 'out.csv.gz');
  const ndjson = path.join(dir, 'out.ndjson.zst');
  const r1 = sluiceOk(['convert', src, csv, '--json']);
  assert.equal(JSON.parse(r1.stdout).rows, 50000);
  sluiceOk(['convert', src, ndjson, '--compression-level', '5']);
  assert.deepEqual([...fs.readFileSync(csv).subarray(0, 2)], [0x1f, 0x8b]);
  assert.deepEqual([...fs.readFileSync(ndjson).subarray(0, 4)], [0x28, 0xb5, 0x2f, 0xfd]);
  const text = zlib.gunzipSync(fs.readFileSync(csv)).toString('utf8');
  assert.equal(text.split('\n')[0], 'id,qty,price,name,day,ts');
  assert.equal(text.split('\n')[2], '1,1,1.25,"",2024-01-02,2024-01-01T00:00:01.000003Z');

  const cols = `columns={id: 'BIGINT', qty: 'INTEGER', price: 'DECIMAL(12,2)', name: 'VARCHAR', day: 'DATE', ts: 'TIMESTAMPTZ'}`;
  const diff = async (from) => (await duckdb(`SELECT count(*)::INTEGER AS n FROM (
      (SELECT * FROM read_parquet('${src}') EXCEPT ALL SELECT * FROM ${from})
      UNION ALL (SELECT * FROM ${from} EXCEPT ALL SELECT * FROM read_parquet('${src}')))`))[0].n;
  assert.equal(await diff(`read_csv('${csv}', header=true, allow_quoted_nulls=false, ${cols})`), 0);
  assert.equal(await diff(`read_json('${ndjson}', format='newline_delimited', ${cols})`), 0);
  const nulls = await duckdb(`SELECT count(*) FILTER (name IS NULL)::INTEGER AS n, count(*) FILTER (name = '')::INTEGER AS e
      FROM read_csv('${csv}', header=true, allow_quoted_nulls=false, ${cols})`);
  assert.deepEqual(nulls, [{ n: 10000, e: 10000 }]);
});

test('NDJSON -> Parquet with an inferred schema, one thread and two give the same rows', async () => {
  const dir = tempDir('sluice-convert-');
  const lines = [];
  for (let i = 0; i < 30000; i++) {
    lines.push(JSON.stringify({ id: i, name: i % 3 === 0 ? null : `n${i}\t"${i}"`, score: i / 4, day: '2026-01-01' }));
  }
  writeFiles(dir, { 'in.jsonl': lines.join('\n') + '\n' });
  const inf = path.join(dir, 'in.jsonl');
  const r = sluiceOk(['convert', inf, path.join(dir, 'one.parquet'), '--threads', '1', '--verbose']);
  assert.match(r.stderr, /inferred schema of .*in\.jsonl/);
  assert.match(r.stderr, /day: date/);
  sluiceOk(['convert', inf, path.join(dir, 'two.parquet'), '--threads', '2', '--row-group-rows', '5000']);
  const groups = await duckdb(`SELECT count(DISTINCT row_group_id)::INTEGER AS n FROM parquet_metadata('${path.join(dir, 'two.parquet')}')`);
  assert.equal(groups[0].n, 6);
  const diff = await duckdb(`SELECT count(*)::INTEGER AS n FROM (
      (SELECT * FROM '${path.join(dir, 'one.parquet')}' EXCEPT ALL SELECT * FROM '${path.join(dir, 'two.parquet')}')
      UNION ALL (SELECT * FROM '${path.join(dir, 'two.parquet')}' EXCEPT ALL SELECT * FROM '${path.join(dir, 'one.parquet')}'))`);
  assert.equal(diff[0].n, 0);
  const agg = await duckdb(`SELECT count(*)::INTEGER AS n, count(name)::INTEGER AS names, sum(score)::DOUBLE AS s,
      min(name) AS first FROM '${path.join(dir, 'two.parquet')}'`);
  assert.deepEqual(agg, [{ n: 30000, names: 20000, s: 30000 * 29999 / 8, first: 'n1\t"1"' }]);
});

test('bad records: shown with file:line:field, written with --bad-records, --max-bad decides', () => {
  const dir = tempDir('sluice-convert-');
  writeFiles(dir, {
    'in.csv': 'id,qty\n1,2\nx,3\n4,99999999999\n5,\n,6\n7,"unterminated\n',
    'schema.yaml': 'id: int64 not null\nqty: int32\n',
  });
  const p = (n) => path.join(dir, n);
  // Default --max-bad 0: the first bad record fails the run, nothing is written.
  const strict = sluice(['convert', p('in.csv'), p('out.parquet'), '--schema', p('schema.yaml')]);
  assert.equal(strict.status, 3, strict.stderr);
  assert.match(strict.stderr, /in\.csv:3:id: cannot parse 'x' as int64/);
  assert.match(strict.stderr, /no output written/);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['in.csv', 'schema.yaml']);

  // Tolerated: the good rows are written and the bad ones go to the file.
  const ok = sluice(['convert', p('in.csv'), p('out.parquet'), '--schema', p('schema.yaml'),
    '--max-bad', '10', '--bad-records', p('bad.ndjson')]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stderr, /2 rows, 4 bad/);
  const bad = fs.readFileSync(p('bad.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(bad.map((b) => [b.file, b.line, b.field]), [
    [p('in.csv'), 3, 'id'], [p('in.csv'), 4, 'qty'], [p('in.csv'), 6, 'id'], [p('in.csv'), 7, ''],
  ]);
  assert.equal(bad[1].raw, '4,99999999999');
  assert.match(bad[3].reason, /unterminated/);

  // Over the limit with a bad-records file: exit 3, the file says why.
  const over = sluice(['convert', p('in.csv'), p('over.parquet'), '--schema', p('schema.yaml'),
    '--max-bad', '1', '--bad-records', p('bad2.ndjson')]);
  assert.equal(over.status, 3);
  assert.ok(!fs.existsSync(p('over.parquet')));
  assert.ok(fs.readFileSync(p('bad2.ndjson'), 'utf8').split('\n').length >= 3);
  // -1: any number of bad records.
  const any = sluice(['convert', p('in.csv'), p('any.csv'), '--schema', p('schema.yaml'), '--max-bad', '-1']);
  assert.equal(any.status, 0, any.stderr);
  assert.equal(fs.readFileSync(p('any.csv'), 'utf8'), 'id,qty\n1,2\n5,\n');
});

test('--check validates without writing: the same bad records and exit codes as a conversion', () => {
  const dir = tempDir('sluice-convert-');
  writeFiles(dir, {
    'in.csv': 'id,qty\n1,2\nx,3\n4,99999999999\n5,\n',
    'good.csv': 'id,qty\n1,2\n5,\n',
    'schema.yaml': 'id: int64 not null\nqty: int32\n',
  });
  const p = (n) => path.join(dir, n);
  const good = sluiceOk(['convert', p('good.csv'), '--check', '--schema', p('schema.yaml'), '--json']);
  const summary = JSON.parse(good.stdout);
  assert.equal(summary.rows, 2);
  assert.equal(summary.output, null);
  assert.equal(summary.to, null);
  assert.match(good.stderr, /good\.csv \(csv\) checked: 2 rows, 0 bad/);

  const strict = sluice(['convert', p('in.csv'), '--check', '--schema', p('schema.yaml')]);
  assert.equal(strict.status, 3, strict.stderr);
  assert.match(strict.stderr, /in\.csv:3:id: cannot parse 'x' as int64/);
  // Issue 10: a rejected file still prints its summary with --json.
  const rejected = sluice(['convert', p('in.csv'), '--check', '--schema', p('schema.yaml'), '--json']);
  assert.equal(rejected.status, 3, rejected.stderr);
  const rs = JSON.parse(rejected.stdout);
  assert.equal(rs.rejected, true);
  assert.ok(rs.bad_records >= 1, String(rs.bad_records));
  assert.equal(rs.rows_out, null);
  assert.equal(summary.rejected, false);
  const tolerant = sluice(['convert', p('in.csv'), '--check', '--schema', p('schema.yaml'),
    '--max-bad', '-1', '--bad-records', p('bad.ndjson')]);
  assert.equal(tolerant.status, 0, tolerant.stderr);
  assert.match(tolerant.stderr, /2 rows, 2 bad/);
  const bad = fs.readFileSync(p('bad.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(bad.map((b) => [b.line, b.field]), [[3, 'id'], [4, 'qty']]);
  // Nothing but the bad-records file was written.
  assert.deepEqual(fs.readdirSync(dir).sort(), ['bad.ndjson', 'good.csv', 'in.csv', 'schema.yaml']);

  // OUT and --check exclude each other; one of them is needed.
  const both = sluice(['convert', p('good.csv'), p('out.parquet'), '--check']);
  assert.equal(both.status, 2);
  assert.match(both.stderr, /--check writes no output/);
  const neither = sluice(['convert', p('good.csv')]);
  assert.equal(neither.status, 2);
  assert.match(neither.stderr, /OUT\) is needed, or --check/);
});

test('CSV dialect flags apply to every CSV side; TSV by suffix', () => {
  const dir = tempDir('sluice-convert-');
  const p = (n) => path.join(dir, n);
  writeFiles(dir, { 'in.tsv': 'a\tb\n1\tx,y\n2\tNULL\n3\t\n', 'semi.csv': "a;b\n1;'x;y'\n2;NULL\n3;\n" });
  // .tsv in, .csv out: each side's delimiter follows its suffix. NULL is
  // written as the first --null marker; the empty string stays "".
  sluiceOk(['convert', p('in.tsv'), p('out.csv'), '--null', 'NULL', '--null', '']);
  assert.equal(fs.readFileSync(p('out.csv'), 'utf8'), 'a,b\n1,"x,y"\n2,NULL\nNULL,NULL\n'.replace('NULL,NULL', '3,NULL'));
  // Explicit flags describe both sides.
  sluiceOk(['convert', p('semi.csv'), p('semi.ndjson'), '--delimiter', ';', '--quote', "'", '--null', 'NULL']);
  assert.equal(fs.readFileSync(p('semi.ndjson'), 'utf8'),
    '{"a":1,"b":"x;y"}\n{"a":2,"b":null}\n{"a":3,"b":""}\n');
  sluiceOk(['convert', p('semi.ndjson'), p('back.csv'), '--delimiter', ';', '--quote', "'", '--null', 'NULL', '--no-header']);
  assert.equal(fs.readFileSync(p('back.csv'), 'utf8'), "1;'x;y'\n2;NULL\n3;''\n");
});

test('errors: usage and bad input exit 2 with a message naming what is wrong', () => {
  const dir = tempDir('sluice-convert-');
  const p = (n) => path.join(dir, n);
  writeFiles(dir, { 'in.csv': 'a,b\n1,2\n', 'bad.yaml': 'a: int64\nb: integr\n', 'notes.txt': 'x' });
  const cases = [
    [['convert', p('missing.csv'), p('o.parquet')], /input file .*missing\.csv' does not exist/],
    [['convert', p('notes.txt'), p('o.parquet')], /cannot tell the format .*notes\.txt/],
    [['convert', p('in.csv'), p('o.xlsx')], /cannot tell the format .*o\.xlsx/],
    [['convert', p('in.csv'), p('o.parquet'), '--schema', p('bad.yaml')], /bad\.yaml:2: schema\.b/],
    [['convert', p('in.csv'), p('o.parquet'), '--schema', p('nope.yaml')], /schema file .* does not exist/],
    [['convert', p('in.csv'), p('o.parquet'), '--compression', 'brotli'], /unknown compression 'brotli'/],
    [['convert', p('in.csv'), p('o.parquet.gz')], /compresses inside the file/],
    [['convert', p('in.csv'), p('o.csv'), '--compression', 'zstd'], /apply to Parquet output/],
    [['convert', p('in.csv'), p('in.csv')], /same file/],
    [['convert', p('in.csv'), p('o.csv'), '--delimiter', '::'], /--delimiter must be one character/],
  ];
  for (const [args, message] of cases) {
    const r = sluice(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  const usage = sluice(['convert', p('in.csv')]);
  assert.notEqual(usage.status, 0);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['bad.yaml', 'in.csv', 'notes.txt']);
});
