// Issue 10: zero-config `convert` and `ingest --table` on files nobody cleaned.
// What inference proposes, the decoder reads back: no column lost, no row
// refused, the same answer from both commands.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { sluice, tempDir } from './lib.mjs';

function convertToRows(dir, name, text) {
  fs.writeFileSync(path.join(dir, name), text);
  const out = path.join(dir, `${name}.ndjson`);
  const r = sluice(['convert', path.join(dir, name), out], { cwd: dir });
  return { r, rows: r.status === 0 ? fs.readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l)) : null };
}

test('convert reads back every column and row it inferred', () => {
  const dir = tempDir('sluice-zero-');
  const cases = [
    ['unnamed.csv', 'a,,c\n1,2,3\n', [{ a: 1, column_2: 2, c: 3 }]],
    ['commas.csv', ',\nx,y\n', [{ column_1: 'x', column_2: 'y' }]],
    ['quoted_empty.csv', 'a,b,c\n1,"",""\n2,3,4\n', [{ a: 1, b: null, c: null }, { a: 2, b: 3, c: 4 }]],
    ['repeated.csv', 'a,a\n1,2\n', [{ a: 1, a_2: 2 }]],
    ['cr.csv', 'a,b\r1,x\r2,y\r', [{ a: 1, b: 'x' }, { a: 2, b: 'y' }]],
    ['zip.csv', 'zip,county\n08123,00501\n10001,12345\n',
      [{ zip: '08123', county: '00501' }, { zip: '10001', county: '12345' }]],
  ];
  for (const [name, text, want] of cases) {
    const { r, rows } = convertToRows(dir, name, text);
    assert.equal(r.status, 0, `${name}: ${r.stderr}`);
    assert.match(r.stderr, /0 bad/, name);
    assert.deepEqual(rows, want, name);
  }
});

test('ingest --table agrees with convert on the same files', () => {
  const dir = tempDir('sluice-zero-');
  fs.writeFileSync(path.join(dir, 'codes.csv'), 'zip,,n,n\r08123,x,"",1\r00501,y,2,2\r');
  const r = sluice(['ingest', '--table', 'codes', 'codes.csv'], { cwd: dir });
  assert.equal(r.status, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /committed/);
  assert.match(r.stdout, /table codes: 2 rows/);
  const spec = fs.readFileSync(path.join(dir, '.sluice', 'pipelines', 'codes.yaml'), 'utf8');
  assert.match(spec, /zip: string/);
  assert.match(spec, /column_2: string/);
  assert.match(spec, /n_2: int32/);
  const { r: c, rows } = convertToRows(dir, 'codes.csv', fs.readFileSync(path.join(dir, 'codes.csv'), 'utf8'));
  assert.equal(c.status, 0, c.stderr);
  assert.deepEqual(rows, [
    { zip: '08123', column_2: 'x', n: null, n_2: 1 },
    { zip: '00501', column_2: 'y', n: 2, n_2: 2 },
  ]);
});

test('a table name that cannot be a file name is refused before anything is created', () => {
  const dir = tempDir('sluice-zero-');
  fs.writeFileSync(path.join(dir, 'd.csv'), 'a\n1\n');
  const r = sluice(['ingest', '--table', 'x'.repeat(300), 'd.csv'], { cwd: dir });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /a table name is 1-64 characters/);
  assert.ok(!fs.existsSync(path.join(dir, '.sluice')), 'nothing was created');
});

test('a record past the sample that does not fit: convert and ingest --table both refuse and say what to do', () => {
  const dir = tempDir('sluice-zero-');
  fs.writeFileSync(path.join(dir, 'late.csv'), 'id,qty\n1,2\n2,3\n3,many\n4,5\n');
  const c = sluice(['convert', 'late.csv', 'late.parquet', '--sample-rows', '2'], { cwd: dir });
  assert.equal(c.status, 3, c.stderr);
  assert.match(c.stderr, /late\.csv:4:qty: cannot parse 'many' as int32/);
  assert.match(c.stderr, /inferred from the first 2 records.*--sample-rows N/);
  assert.ok(!fs.existsSync(path.join(dir, 'late.parquet')));

  const i = sluice(['ingest', '--table', 'late', 'late.csv', '--sample-rows', '2'], { cwd: dir });
  assert.equal(i.status, 3, i.stderr + i.stdout);
  assert.match(i.stdout, /quarantined/);
  assert.match(i.stderr, /inferred from the first 2 records.*for table 'late', edit .*late\.yaml/);
  assert.doesNotMatch(i.stdout, /table late: [1-9]/);  // nothing half-loaded

  // Looking further finds the string; both then load every row.
  const c2 = sluice(['convert', 'late.csv', 'late.ndjson', '--sample-rows', '3'], { cwd: dir });
  assert.equal(c2.status, 0, c2.stderr);
  const rows = fs.readFileSync(path.join(dir, 'late.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(rows.map((r) => r.qty), ['2', '3', 'many', '5']);
});
