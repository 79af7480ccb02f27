// Deadlines and freshness from outside: a pipeline whose deadline cannot be
// met and one that expects batches that never come. The webhook (a real HTTP
// server here, failing its first call) gets "missed" and "stale" alerts,
// retried; /metrics, /v1/deadlines and `sluice status` show them; the hook's
// credentials appear in no output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { SLUICE, sluiceOk, startApiServer, stopServer, waitFor, writeProject } from './lib.mjs';

const CHROMIUM = process.env.SLUICE_CHROMIUM || '/usr/bin/chromium';
const ARTIFACTS = path.join(
  process.env.SLUICE_ARTIFACTS_DIR || path.join(path.dirname(path.resolve(SLUICE)), 'e2e-artifacts'),
  'deadlines');

const spec = (name, extra) => `pipeline: ${name}
source:
  pattern: "*.csv"
  format: csv
schema:
  id: int64 not null
${extra}
outputs:
  - table: ${name}
`;

// A webhook that answers 500 to its first call, then 200; records the rest.
async function startHook() {
  const calls = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      calls.push({ auth: req.headers.authorization, type: req.headers['content-type'], body });
      res.statusCode = calls.length === 1 ? 500 : 200;
      res.end();
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { server, calls, url: `http://127.0.0.1:${server.address().port}/hook?tenant=t1` };
}

test('missed deadlines and a stale pipeline raise alerts, metrics and status', async () => {
  const hook = await startHook();
  const p = writeProject('sluice-deadlines-', [
    'store_root: ./store', 'catalog: ./catalog.db', 'pipelines_dir: ./pipelines',
    'poll_interval: 100ms', 'workers: 1', 'server: { rate: 0 }',
    'alerts:', `  webhook: "${hook.url}"`, '  authorization: "Bearer hook-secret-42"',
  ], {
    orders: spec('orders', 'deadline: 1ms'),
    feed: spec('feed', 'expect_every: 2s'),
  });
  const server = await startApiServer(p.config);
  try {
    const put = await fetch(`${server.url}/v1/landing/orders/a.csv`, { method: 'PUT', body: 'id\n1\n2\n' });
    assert.equal(put.status, 201);
    const batchId = (await put.json()).batch_id;

    // The hook: the first call failed (500) and was retried; both kinds arrive.
    const events = () => hook.calls.slice(1).map((c) => JSON.parse(c.body));
    await waitFor('a missed and a stale alert', () =>
      events().some((e) => e.kind === 'missed') && events().some((e) => e.kind === 'stale'), { timeout: 30_000 });
    const missed = events().find((e) => e.kind === 'missed');
    assert.equal(missed.pipeline, 'orders');
    assert.equal(missed.batch_id, batchId);
    assert.ok(missed.deadline_us > 0 && missed.message.includes(`batch ${batchId}`), JSON.stringify(missed));
    const stale = events().find((e) => e.kind === 'stale');
    assert.equal(stale.pipeline, 'feed');
    assert.equal(stale.expect_every_us, 2_000_000);
    assert.equal(stale.last_batch_us, null);
    for (const c of hook.calls) {
      assert.equal(c.auth, 'Bearer hook-secret-42');
      assert.equal(c.type, 'application/json');
    }
    // Each alert once, whatever the polls since.
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(events().filter((e) => e.kind === 'missed').length, 1);
    assert.equal(events().filter((e) => e.kind === 'stale').length, 1);

    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, /^sluice_deadline_misses_total\{pipeline="orders"\} 1$/m);
    assert.match(metrics, /^sluice_freshness_misses_total\{pipeline="feed"\} 1$/m);
    assert.match(metrics, /^sluice_batches_at_risk\{pipeline="orders"\} 0$/m);
    assert.match(metrics, /^sluice_alerts_total\{kind="missed",outcome="sent"\} 1$/m);
    assert.match(metrics, /^sluice_alert_retries_total\{kind="(missed|stale)"\} 1$/m);
    await waitFor('the stale gauge', async () =>
      /^sluice_pipeline_stale\{pipeline="feed"\} 1$/m.test(await (await fetch(`${server.url}/metrics`)).text()));

    const deadlines = await (await fetch(`${server.url}/v1/deadlines`)).json();
    const orders = deadlines.pipelines.find((x) => x.pipeline === 'orders');
    const feed = deadlines.pipelines.find((x) => x.pipeline === 'feed');
    assert.equal(orders.deadline_seconds, 0.001);
    assert.equal(orders.missed_24h, 1);
    assert.equal(feed.stale, true);
    assert.equal(feed.last_arrival_us, 0);
    const batch = await (await fetch(`${server.url}/v1/batches/${batchId}`)).json();
    assert.equal(batch.deadline, 'missed');
    // The dashboard's panel: both pipelines, the miss, the stale mark.
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--headless', '--no-first-run'],
    });
    try {
      const page = await browser.newPage();
      await page.goto(server.url + '/');
      const table = page.locator('#deadlines table.deadline-pipelines');
      await table.waitFor();
      const rows = await table.locator('tbody tr').allTextContents();
      assert.equal(rows.length, 2, rows.join(' | '));
      assert.match(rows.find((r) => r.startsWith('feed')), /2\.00 s.*never.*stale/);
      assert.match(rows.find((r) => r.startsWith('orders')), /1 ms.*1/);
      fs.mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, 'deadlines.png'), fullPage: true });
    } finally {
      await browser.close();
    }

    const status = sluiceOk(['-c', p.config, 'status']).stdout;
    assert.match(status, /deadlines and freshness:/);
    assert.match(status, /feed .* STALE/);
    assert.match(status, /orders +1 ms +- +0 +1 /);

    // A batch arrives: the pipeline is fresh again (for expect_every, 2 s),
    // then stale again: a second alert, for the new silence.
    assert.equal((await fetch(`${server.url}/v1/landing/feed/a.csv`, { method: 'PUT', body: 'id\n1\n' })).status, 201);
    await waitFor('feed fresh again', async () => {
      const f = (await (await fetch(`${server.url}/v1/deadlines`)).json()).pipelines.find((x) => x.pipeline === 'feed');
      return f.last_arrival_us > 0 && !f.stale;
    }, { every: 50 });
    await waitFor('a second stale alert', () => events().filter((e) => e.kind === 'stale').length === 2);
    assert.ok(events().filter((e) => e.kind === 'stale')[1].last_batch_us > 0);
  } finally {
    await stopServer(server);
    hook.server.close();
  }
  // The hook's credentials and query are never written out.
  assert.doesNotMatch(server.output(), /hook-secret-42|tenant=t1/);
});
