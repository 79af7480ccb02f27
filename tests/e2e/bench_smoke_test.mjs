// Smoke test of the benchmark harness (bench/run.sh) on a tiny data set, one
// run per measurement, so that it cannot rot. It checks that every task ran
// on both tools and produced plausible numbers, not how fast anything is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { SLUICE, tempDir } from './lib.mjs';

const REPO = process.env.SLUICE_SOURCE_DIR ?? path.resolve(import.meta.dirname, '..', '..');
// The test build has the generator next to the binary's directory.
const DATAGEN = path.join(path.dirname(SLUICE), '..', 'bench', 'sluice_datagen');

function sha(file) {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

test('datagen is deterministic and writes the documented columns', () => {
  assert.ok(fs.existsSync(DATAGEN), `${DATAGEN} missing (target sluice_datagen)`);
  const dir = tempDir('sluice-datagen-');
  const gen = (name) => {
    const r = spawnSync(DATAGEN, ['--rows', '5000', '--csv', path.join(dir, `${name}.csv`),
      '--ndjson', path.join(dir, `${name}.ndjson`)], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  };
  gen('a');
  gen('b');
  assert.equal(sha(path.join(dir, 'a.csv')), sha(path.join(dir, 'b.csv')));
  assert.equal(sha(path.join(dir, 'a.ndjson')), sha(path.join(dir, 'b.ndjson')));
  const lines = fs.readFileSync(path.join(dir, 'a.csv'), 'utf8').trimEnd().split('\n');
  assert.equal(lines[0], 'order_id,quantity,unit_price,currency,created_at,country,note');
  assert.equal(lines.length, 5001);
  assert.match(lines[1], /^1,\d+,\d+\.\d\d,[A-Z]{3},2023-01-01T00:00:0\dZ,[A-Z]{2},/);
  const quoted = lines.filter((l) => /,"[^"]*, ""/.test(l)).length;
  assert.ok(quoted > 300 && quoted < 800, `${quoted} quoted notes of 5000`);
  const json = fs.readFileSync(path.join(dir, 'a.ndjson'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
  assert.equal(json.length, 5000);
  assert.deepEqual(Object.keys(json[0]), ['order_id', 'quantity', 'unit_price', 'currency', 'created_at', 'country', 'note']);
});

test('bench/run.sh in quick mode runs every task on sluice and DuckDB', () => {
  const dir = tempDir('sluice-bench-');
  const r = spawnSync(path.join(REPO, 'bench', 'run.sh'), ['--sluice', SLUICE, '--datagen', DATAGEN,
    '--rows', '20000', '--reps', '1', '--threads', '1,2', '--data-dir', dir, '--json'],
  { encoding: 'utf8', maxBuffer: 1 << 26 });
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.match(r.stderr, /page cache: warm/);
  assert.match(r.stderr, /sluice vs DuckDB: 20000 rows/);
  const ran = report.results.filter((x) => !x.skipped);
  const key = (x) => `${x.task}|${x.via}|${x.threads}`;
  const keys = ran.map(key);
  for (const threads of [1, 2]) {
    for (const k of ['CSV -> Parquet zstd|convert', 'CSV -> Parquet zstd|ingest --table',
      'NDJSON -> Parquet zstd|convert', 'NDJSON -> Parquet zstd|ingest --table', 'Parquet -> CSV|convert',
      'CSV decode only|convert', 'CSV -> filter + group-by -> Parquet|convert']) {
      assert.ok(keys.includes(`${k}|${threads}`), `${k}|${threads} missing from ${keys}`);
    }
  }
  for (const x of ran) {
    assert.equal(x.rows, 20000);
    assert.ok(x.sluice.seconds > 0 && x.input_bytes > 0, key(x));
    if (x.via === 'cat') continue;
    assert.ok(x.duckdb.seconds > 0 && x.ratio > 0, key(x));
    if (x.task === 'CSV decode only') {
      assert.equal(x.sluice.output_bytes, null, key(x));  // nothing written
      continue;
    }
    assert.ok(x.sluice.output_bytes > 0 && x.duckdb.output_bytes > 0, key(x));
  }
  assert.ok(ran.some((x) => x.via === 'cat'));
  assert.ok(!report.results.some((x) => x.skipped), 'no task is skipped');
  // Data sets are kept for the next run; scratch outputs are not.
  const left = fs.readdirSync(dir).sort();
  assert.deepEqual(left, ['orders-v1-20000.csv', 'orders-v1-20000.ndjson', 'orders-v1-20000.parquet']);
});
