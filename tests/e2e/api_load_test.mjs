// A bounded load on loopback: wrk sends data requests for a fixed time while
// large batches are uploaded to the same server. Every data request answers
// 2xx, every upload is accepted and committed meanwhile. Latencies are
// printed, not asserted (bench/api_load.sh measures them on a quiet machine).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { sluiceOk, startApiServer, tempDir } from './lib.mjs';

const SPEC = `pipeline: orders
source:
  pattern: "*.csv"
  format: csv
schema:
  order_id: int64 not null
  country: string
  amount: float64
outputs:
  - table: orders
`;

function rowsCsv(from, count) {
  const countries = ['DE', 'FR', 'US', 'JP', 'BR'];
  const lines = ['order_id,country,amount'];
  for (let i = from; i < from + count; i++) lines.push(`${i},${countries[i % 5]},${(i % 1000) / 10}`);
  return `${lines.join('\n')}\n`;
}

function run(cmd, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, out }));
  });
}

test('data requests keep answering while uploads are ingested', async () => {
  const dir = tempDir('sluice-load-');
  fs.mkdirSync(path.join(dir, 'pipelines'));
  fs.writeFileSync(path.join(dir, 'pipelines', 'orders.yaml'), SPEC);
  const config = path.join(dir, 'sluice.yaml');
  fs.writeFileSync(config, 'store_root: ./store\ncatalog: ./catalog.db\npipelines_dir: ./pipelines\n' +
    'poll_interval: 100ms\nworkers: 1\nserver: { rate: 0 }\n');
  const base = path.join(dir, 'base.csv');
  fs.writeFileSync(base, rowsCsv(1, 200000));
  sluiceOk(['-c', config, 'ingest', '--pipeline', 'orders', base]);

  const server = await startApiServer(config, ['--log-level', 'warn']);
  try {
    const script = path.join(dir, 'rows.lua');
    fs.writeFileSync(script, `local n = 0
request = function()
  n = n + 1
  local id = (n * 7919) % 200000 + 1
  if n % 2 == 0 then
    return wrk.format("GET", "/v1/tables/orders/rows?limit=100&where=order_id%20%3D%20" .. id)
  end
  return wrk.format("GET", "/v1/tables/orders/rows?limit=100&columns=order_id,amount&where=country%20%3D%20%27DE%27%20AND%20order_id%20%3E%20" .. id)
end
`);
    const wrk = run('wrk', ['-t2', '-c4', '-d6s', '--latency', '-s', script, server.url]);
    // Meanwhile: five uploads of 100 000 rows each, one after another.
    const uploads = [];
    for (let k = 0; k < 5; k++) {
      const r = await fetch(`${server.url}/v1/landing/orders/load-${k}.csv`, {
        method: 'PUT', body: rowsCsv(1000000 + k * 100000, 100000),
      });
      uploads.push({ status: r.status, body: await r.json() });
    }
    const { code, out } = await wrk;
    assert.equal(code, 0, out);
    console.log(out);
    assert.doesNotMatch(out, /Non-2xx/, 'every data request answered 2xx');
    assert.doesNotMatch(out, /Socket errors/, 'no connection failed');
    const done = Number(/(\d+) requests in/.exec(out)[1]);
    assert.ok(done > 50, `only ${done} requests answered in 6 s`);
    for (const u of uploads) assert.equal(u.status, 201, JSON.stringify(u.body));
    // And they are committed while the requests go on (or right after).
    const deadline = Date.now() + 120000;
    for (;;) {
      const page = await (await fetch(`${server.url}/v1/batches?state=committed`)).json();
      if (page.batches.length === 6) break;
      assert.ok(Date.now() < deadline, `committed: ${page.batches.length} of 6`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const t = await (await fetch(`${server.url}/v1/tables/orders`)).json();
    assert.equal(t.rows, 700000);
  } finally {
    server.kill('SIGTERM');
    await server.exited;
  }
});
