// Exports from outside: an export accepted by one server survives that
// server's kill -9 and is finished by the next one; its file is the same
// rows a data request of its snapshot answers, and its checksum is right.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { duckdb, s3Endpoint, s3List, startApiServer, tempDir, waitFor } from './lib.mjs';

const SPEC = `pipeline: events
source:
  pattern: "*.csv"
  format: csv
schema:
  id: int64 not null
  name: string
outputs:
  - table: events
`;

function writeConfig(dir, exporters) {
  fs.writeFileSync(path.join(dir, 'sluice.yaml'),
    'store_root: ./store\ncatalog: ./catalog.db\npipelines_dir: ./pipelines\n' +
    `poll_interval: 100ms\nworkers: 1\nlease: 2s\nexporters: ${exporters}\nserver: { rate: 0 }\n`);
  return path.join(dir, 'sluice.yaml');
}

const json = async (url, init) => {
  const r = await fetch(url, init);
  return { status: r.status, body: await r.json() };
};

function csvRows(first, last) {
  let s = 'id,name\n';
  for (let i = first; i <= last; i++) s += `${i},name-${i}\n`;
  return s;
}

test('an accepted export survives a kill -9 and the next server finishes it', async () => {
  const dir = tempDir('sluice-exports-');
  fs.mkdirSync(path.join(dir, 'pipelines'));
  fs.writeFileSync(path.join(dir, 'pipelines', 'events.yaml'), SPEC);
  // The first server takes no exports: they can only be queued.
  let server = await startApiServer(writeConfig(dir, 0));
  const put = (name, body) => fetch(`${server.url}/v1/landing/events/${name}`, { method: 'PUT', body });
  assert.equal((await put('a.csv', csvRows(1, 20000))).status, 201);
  await waitFor('the first batch committed', async () => {
    const t = await json(`${server.url}/v1/tables/events`);
    return t.status === 200 && t.body.rows === 20000;
  });
  const post = (body) => json(`${server.url}/v1/exports`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  const csv = await post({ table: 'events', where: 'id % 7 = 0', format: 'csv' });
  assert.equal(csv.status, 202, JSON.stringify(csv.body));
  const parquet = await post({ table: 'events', columns: ['id'], format: 'parquet' });
  assert.equal(parquet.status, 202, JSON.stringify(parquet.body));
  const snapshot = csv.body.snapshot;
  // Committed after the exports were accepted: in neither.
  assert.equal((await put('b.csv', csvRows(20001, 20100))).status, 201);
  await waitFor('the second batch committed', async () => {
    const t = await json(`${server.url}/v1/tables/events`);
    return t.body.rows === 20100;
  });
  assert.equal((await json(`${server.url}/v1/exports/${csv.body.id}`)).body.state, 'queued');
  server.kill('SIGKILL');
  await server.exited;

  server = await startApiServer(writeConfig(dir, 1));
  for (const id of [csv.body.id, parquet.body.id]) {
    await waitFor(`export ${id} done`, async () => {
      const e = await json(`${server.url}/v1/exports/${id}`);
      assert.notEqual(e.body.state, 'failed', JSON.stringify(e.body));
      return e.body.state === 'done';
    });
  }
  // The CSV file is what a data request of the pinned snapshot answers.
  const file = await fetch(`${server.url}/v1/exports/${csv.body.id}/file`);
  assert.equal(file.status, 200);
  const text = await file.text();
  const expected = await (await fetch(
    `${server.url}/v1/tables/events/rows?format=csv&limit=all&snapshot=${snapshot}` +
    `&where=${encodeURIComponent('id % 7 = 0')}`)).text();
  assert.equal(text, expected);
  assert.equal(text.trim().split('\n').length, 1 + Math.floor(20000 / 7));
  const sha = crypto.createHash('sha256').update(text).digest('hex');
  assert.equal(file.headers.get('sluice-sha256'), sha);
  const done = (await json(`${server.url}/v1/exports/${csv.body.id}`)).body;
  assert.equal(done.sha256, sha);
  assert.equal(done.rows, Math.floor(20000 / 7));
  assert.equal(done.attempts, 1);

  // The Parquet file holds the 20000 rows of the pinned snapshot.
  const pq = path.join(dir, 'out.parquet');
  fs.writeFileSync(pq, Buffer.from(await (await fetch(`${server.url}/v1/exports/${parquet.body.id}/file`)).arrayBuffer()));
  const [counted] = await duckdb(`SELECT count(*) AS n, sum(id) AS s FROM read_parquet('${pq}')`);
  assert.equal(Number(counted.n), 20000);
  assert.equal(Number(counted.s), 200010000);

  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  assert.match(metrics, /^sluice_export_runs_total\{outcome="done"\} 2$/m);
  assert.match(metrics, /^sluice_queue_depth\{kind="export"\} 0$/m);
  server.kill('SIGTERM');
  assert.equal((await server.exited).code, 0);
});

// On an S3-compatible store the export's file is an object in the bucket:
// written by the exporter, downloaded through the API, and deleted with the
// export.
test('an export on an S3 store lands in the bucket and goes with its export', async () => {
  const dir = tempDir('sluice-exports-s3-');
  fs.mkdirSync(path.join(dir, 'pipelines'));
  fs.writeFileSync(path.join(dir, 'pipelines', 'events.yaml'), SPEC);
  const prefix = `e2e-exports-${process.pid}`;
  fs.writeFileSync(path.join(dir, 'sluice.yaml'),
    `store_root: s3://${s3Endpoint().bucket}/${prefix}\ns3_endpoint: ${s3Endpoint().endpoint}\n` +
    'catalog: ./catalog.db\npipelines_dir: ./pipelines\npoll_interval: 100ms\nworkers: 1\n' +
    'server: { rate: 0 }\n');
  const server = await startApiServer(path.join(dir, 'sluice.yaml'));
  try {
    const put = await fetch(`${server.url}/v1/landing/events/a.csv`, { method: 'PUT', body: csvRows(1, 5000) });
    assert.equal(put.status, 201);
    await waitFor('the batch committed', async () => (await json(`${server.url}/v1/tables/events`)).body.rows === 5000);
    const created = await json(`${server.url}/v1/exports`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ table: 'events', format: 'ndjson', where: 'id <= 10' }),
    });
    assert.equal(created.status, 202, JSON.stringify(created.body));
    const id = created.body.id;
    await waitFor('the export done', async () => {
      const e = await json(`${server.url}/v1/exports/${id}`);
      assert.notEqual(e.body.state, 'failed', JSON.stringify(e.body));
      return e.body.state === 'done';
    });
    const keys = await s3List(`${prefix}/exports/${id}/`);
    assert.deepEqual(keys, [`${prefix}/exports/${id}/1.ndjson`]);
    const text = await (await fetch(`${server.url}/v1/exports/${id}/file`)).text();
    const ids = text.trim().split('\n').map((l) => JSON.parse(l).id);
    assert.deepEqual(ids, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.equal((await fetch(`${server.url}/v1/exports/${id}`, { method: 'DELETE' })).status, 204);
    assert.deepEqual(await s3List(`${prefix}/exports/${id}/`), []);
  } finally {
    server.kill('SIGTERM');
    await server.exited;
  }
});
