// The engine on an S3-compatible store (s3rver): the same pipeline and data
// give byte-identical lake files on the local and the S3 store; replay,
// quarantine and `sluice check` work there; awscli reads what sluice wrote.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  duckdb, land, s3Endpoint, s3Get, s3List, s3Put, sluiceOk, startServer, tempDir,
} from './lib.mjs';

const PIPELINE = [
  'pipeline: events',
  'source: { pattern: "*.csv", format: csv }',
  'schema:', '  id: int64 not null', '  grp: string', '  day: date',
  'on_bad_record: quarantine',
  'max_bad_ratio: 0.5',
  'outputs:',
  '  - table: events', '    partition_by: [day]', ''].join('\n');

function csv(first, n, bad = 0) {
  const lines = ['id,grp,day'];
  for (let i = 0; i < n; i++) {
    const id = first + i;
    lines.push(`${id},g${id % 3},2026-12-0${1 + (id % 4)}`);
  }
  for (let i = 0; i < bad; i++) lines.push(`not-a-number-${i},g,2026-12-01`);
  return lines.join('\n') + '\n';
}

const FILES = [['a.csv', csv(0, 500)], ['b.csv', csv(500, 700, 3)], ['c.csv', csv(1200, 50)]];
let projects = 0;

function project(s3) {
  const dir = tempDir('sluice-s3-');
  fs.mkdirSync(path.join(dir, 'pipelines'));
  fs.writeFileSync(path.join(dir, 'pipelines', 'events.yaml'), PIPELINE);
  const prefix = `e2e-${process.pid}-${projects++}`;
  const store = s3
    ? [`store_root: s3://${s3Endpoint().bucket}/${prefix}`, `s3_endpoint: ${s3Endpoint().endpoint}`]
    : ['store_root: ./store'];
  const config = path.join(dir, 'sluice.yaml');
  fs.writeFileSync(config, [...store, 'catalog: ./catalog.db', 'pipelines_dir: ./pipelines',
    'workers: 1', 'poll_interval: 50ms', ''].join('\n'));
  return { dir, config, prefix };
}

async function drain(config) {
  const s = startServer(config, ['--exit-when-idle']);
  const { code } = await s.exited;
  assert.equal(code, 0, s.stderrText);
}

test('local and S3 stores give byte-identical lake files; replay, quarantine and check on S3',
  { timeout: 300_000 }, async () => {
    const local = project(false);
    const remote = project(true);
    // One file at a time, so batch ids (written into each file's metadata)
    // are the same in both projects.
    for (const [name, content] of FILES) {
      land(path.join(local.dir, 'store', 'landing', 'events'), name, content);
      await drain(local.config);
      await s3Put(`${remote.prefix}/landing/events/${name}`, content);
      await drain(remote.config);
    }
    const tables = (p) => JSON.parse(sluiceOk(['-c', p.config, 'tables', '--json']).stdout);
    const files = (p) => tables(p).find((t) => t.name === 'events').data_files
      .map((f) => ({ key: f.key, sha256: f.sha256, rows: f.rows })).sort((a, b) => a.key < b.key ? -1 : 1);
    const localFiles = files(local);
    assert.equal(localFiles.reduce((s, f) => s + f.rows, 0), 1250);
    assert.deepEqual(files(remote), localFiles, 'the same files, byte for byte (SHA-256)');
    // The recorded hashes are the bytes in the bucket.
    for (const f of tables(remote).find((t) => t.name === 'events').data_files) {
      assert.ok(f.path.startsWith(`s3://${s3Endpoint().bucket}/${remote.prefix}/lake/events/`), f.path);
      const bytes = await s3Get(`${remote.prefix}/${f.key}`);
      const { createHash } = await import('node:crypto');
      assert.equal(createHash('sha256').update(bytes).digest('hex'), f.sha256);
    }
    // Landing objects were registered in place: nothing under archive/.
    assert.deepEqual(await s3List(`${remote.prefix}/archive/`), []);
    assert.equal((await s3List(`${remote.prefix}/landing/events/`)).length, 3);
    // The quarantine file of the batch with bad rows is in the bucket.
    const quarantined = await s3List(`${remote.prefix}/quarantine/events/`);
    assert.equal(quarantined.length, 1, quarantined.join(','));
    assert.equal((await s3Get(quarantined[0])).toString().trim().split('\n').length, 3);

    // A replay on S3: the table keeps every row once; the replaced files stay
    // in the bucket for older snapshots but leave the current one.
    const batches = JSON.parse(sluiceOk(['-c', remote.config, 'batches', '--json']).stdout);
    const b = batches.find((x) => x.object_key.endsWith('b.csv'));
    sluiceOk(['-c', remote.config, 'replay', String(b.id)]);
    await drain(remote.config);
    const after = tables(remote).find((t) => t.name === 'events');
    assert.equal(after.rows, 1250);
    const copy = tempDir('sluice-s3-copy-');
    for (const f of after.data_files) {
      const local = path.join(copy, f.key.replaceAll('/', '_'));
      fs.writeFileSync(local, await s3Get(`${remote.prefix}/${f.key}`));
    }
    const [row] = await duckdb(`SELECT count(*)::BIGINT AS n, count(DISTINCT id)::BIGINT AS d
                                FROM read_parquet('${copy}/*.parquet')`);
    assert.deepEqual(row, { n: 1250n, d: 1250n });
    const check = JSON.parse(sluiceOk(['-c', remote.config, 'check', '--json']).stdout);
    assert.deepEqual(check.problems, []);

    // awscli (a second, independent client) lists and reads what sluice wrote.
    const env = { ...process.env, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_DEFAULT_REGION: 'us-east-1', AWS_PAGER: '' };
    const ls = spawnSync('/usr/bin/aws', ['--endpoint-url', s3Endpoint().endpoint, 's3', 'ls',
      '--recursive', `s3://${s3Endpoint().bucket}/${remote.prefix}/lake/events/`],
    { encoding: 'utf8', env });
    assert.equal(ls.status, 0, ls.stderr);
    for (const f of after.data_files) assert.ok(ls.stdout.includes(f.key), `${f.key} not listed`);
  });
