// The dashboard (issue 13) end to end: the real binary serves it, Debian's
// chromium (driven by playwright-core over CDP) shows it. Two pipelines land
// batches that commit, quarantine rows, quarantine a whole file and fail;
// the page must show the pipelines and every batch with its state, drill
// into a batch (timeline, attempts, the bad-record sample with its reason,
// the error), preview a table's rows, pick up a new batch live, and do all
// of it without a console error. What the page shows is checked against the
// API and against the files the test landed.
//
// Screenshots go to $SLUICE_ARTIFACTS_DIR/dashboard, else to
// e2e-artifacts/dashboard beside the binary. The last test measures the
// first contentful paint with 10,000 batches in the catalog and prints it;
// timing is reported, never asserted.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import {
  SLUICE, killServers, land, startApiServer, stopServer, waitFor, writeProject,
} from './lib.mjs';

const CHROMIUM = process.env.SLUICE_CHROMIUM || '/usr/bin/chromium';
const ARTIFACTS = path.join(
  process.env.SLUICE_ARTIFACTS_DIR || path.join(path.dirname(path.resolve(SLUICE)), 'e2e-artifacts'),
  'dashboard');

after(killServers);

let browser;
before(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  console.log(`dashboard screenshots: ${ARTIFACTS}`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--headless', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});
after(async () => { if (browser) await browser.close(); });

const ORDERS = `pipeline: orders
source: { pattern: "*.csv", format: csv, settle: 0s }
schema:
  id: int64 not null
  amount: float64
on_bad_record: quarantine
max_bad_ratio: 0.5
outputs:
  - table: orders
`;
const EVENTS = `pipeline: events
source: { pattern: "*.ndjson", format: ndjson, settle: 0s }
schema:
  id: int64 not null
  kind: string
on_bad_record: fail
outputs:
  - table: events
`;

function project(prefix, extraConfig = [], specs = { orders: ORDERS, events: EVENTS }) {
  const { dir, config } = writeProject(prefix, [
    'store_root: ./store', 'catalog: ./store/catalog.db', 'pipelines_dir: ./pipelines',
    'workers: 1', 'threads: 1', 'poll_interval: 100ms', 'lease: 10s', ...extraConfig], specs);
  return { dir, config, landing: (p) => path.join(dir, 'store', 'landing', p) };
}

async function getJson(url, headers = {}) {
  const r = await fetch(url, { headers });
  const text = await r.text();
  if (!r.ok) throw new Error(`GET ${url}: ${r.status} ${text}`);
  return JSON.parse(text);
}

// Every batch (all pages of /v1/batches).
async function allBatches(base, headers = {}) {
  const out = [];
  let next = '/v1/batches?limit=1000';
  while (next) {
    const page = await getJson(base + next, headers);
    out.push(...page.batches);
    next = page.next;
  }
  return out;
}

// A page that records console errors and uncaught exceptions.
async function openPage(context) {
  const page = await context.newPage();
  page.errors = [];
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => page.errors.push(`pageerror: ${e.message}`));
  return page;
}

async function shot(page, name) {
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

const csv = (rows) => ['id,amount', ...rows].join('\n') + '\n';

test('the dashboard shows pipelines and batches, drills into one, previews a table, updates live', async () => {
  const p = project('sluice-dash-');
  const good = Array.from({ length: 25 }, (_, i) => `${i + 1},${(i + 1) * 1.5}`);
  land(p.landing('orders'), 'o1.csv', csv(good));
  land(p.landing('orders'), 'o2.csv', csv(['100,1.5', '101,oops', '102,2.5']));
  land(p.landing('orders'), 'o3.csv', csv(['x,1', 'y,2']));
  land(p.landing('events'), 'e1.ndjson', '{"id":1,"kind":"click"}\n{"id":2,"kind":"view"}\n');
  land(p.landing('events'), 'e2.ndjson', '{"id":3,"kind":"click"}\n{"id":"nope","kind":"view"}\n');
  const s = await startApiServer(p.config, ['--log-level', 'warn']);
  try {
    // Until every batch reached the state its file leads to.
    const batches = await waitFor('five finished batches', async () => {
      const list = await allBatches(s.url);
      const settled = list.filter((b) => ['committed', 'quarantined', 'failed'].includes(b.state));
      return list.length === 5 && settled.length === 5 ? list : null;
    }, { timeout: 120_000 });
    const byKey = Object.fromEntries(batches.map((b) => [b.object_key.split('/').pop(), b]));
    assert.equal(byKey['o1.csv'].state, 'committed');
    assert.equal(byKey['o2.csv'].state, 'committed');
    assert.equal(byKey['o2.csv'].rows_quarantined, 1);
    assert.equal(byKey['o3.csv'].state, 'quarantined');
    assert.equal(byKey['e1.ndjson'].state, 'committed');
    assert.equal(byKey['e2.ndjson'].state, 'failed');

    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const page = await openPage(context);
    await page.goto(s.url + '/');

    // Pipelines with their active versions (as the API reports them).
    const pipelines = (await getJson(s.url + '/v1/pipelines')).pipelines;
    assert.equal(pipelines.length, 2);
    for (const pl of pipelines) {
      const row = page.locator(`#pipelines-body tr[data-key="${pl.pipeline}"]`);
      await row.waitFor();
      assert.equal(await row.locator('td').nth(0).textContent(), pl.pipeline);
      assert.match(await row.locator('td').nth(1).textContent(), new RegExp(`^v${pl.version} · ${pl.content_hash.slice(0, 8)}$`));
    }
    // Every batch, with its state.
    for (const b of batches) {
      const row = page.locator(`#recent-body tr[data-key="${b.id}"]`);
      await row.waitFor();
      assert.equal(await row.locator('td').nth(1).textContent(), b.pipeline);
      assert.equal(await row.locator('td .state').textContent(), b.state);
    }
    // Counts by state.
    for (const [state, n] of [['committed', 3], ['quarantined', 1], ['failed', 1], ['queued', 0]]) {
      assert.equal(await page.locator(`#state-counts a[data-state="${state}"] b`).textContent(), String(n), state);
    }
    // The charts: the committed batches' rows in the throughput bars (the
    // minute buckets' titles name their rows), latency points.
    await page.locator('#chart-throughput svg rect.s-rows').first().waitFor();
    const barRows = await page.locator('#chart-throughput svg rect.s-rows title').allTextContents();
    const charted = barRows.reduce((sum, t) => sum + Number(t.match(/rows written ([\d,]+) rows/)[1].replace(/,/g, '')), 0);
    assert.equal(charted, batches.reduce((sum, b) => sum + (b.state === 'committed' ? b.rows_written : 0), 0));
    assert.ok(await page.locator('#chart-latency svg circle.s-proc').count() >= 1);
    // Its pipeline has no deadline: the panel says so (no numbers invented).
    assert.match(await page.locator('#deadlines').textContent(), /No pipeline has a deadline or expect_every/);
    console.log(`overview: ${await shot(page, '1-overview')}`);

    // Drill into the batch with a bad record.
    const bad = byKey['o2.csv'];
    const detail = await getJson(`${s.url}/v1/batches/${bad.id}?bad_samples=20`);
    assert.equal(detail.bad_record_samples.length, 1);
    const sample = detail.bad_record_samples[0];
    assert.equal(sample.line, 3);
    assert.equal(sample.field, 'amount');
    await page.locator(`#recent-body tr[data-key="${bad.id}"] td a`).click();
    await page.waitForFunction((id) => location.hash === `#/batches/${id}`, bad.id);
    await page.locator('#batch-detail h1').waitFor();
    assert.equal(await page.locator('#batch-detail h1').textContent(), `Batch ${bad.id}`);
    const timeline = await page.locator('#batch-detail ol.timeline li .state').allTextContents();
    assert.deepEqual(timeline, detail.history.map((e) => e.state));
    assert.equal(timeline.at(-1), 'committed');
    assert.ok(await page.locator('#batch-detail table:has(th:text-is("attempt")) tbody tr').count() >= 1);
    const badRow = page.locator('#batch-detail table.bad-records tbody tr').first();
    assert.equal(await badRow.locator('td').nth(0).textContent(), '3');
    assert.equal(await badRow.locator('td').nth(1).textContent(), 'amount');
    assert.equal(await badRow.locator('td').nth(2).textContent(), sample.reason);
    assert.ok(sample.reason.length > 0);
    assert.equal(await badRow.locator('td').nth(3).textContent(), sample.raw);
    assert.ok(detail.files.length >= 1);
    const fileKeys = await page.locator('#batch-detail table.files tbody tr td:nth-child(2)').allTextContents();
    assert.deepEqual(fileKeys, detail.files.map((f) => f.key));
    console.log(`batch: ${await shot(page, '2-batch-bad-record')}`);

    // The failed batch: its error, as the API has it.
    const failed = byKey['e2.ndjson'];
    assert.ok(failed.last_error.length > 0);
    await page.goto(`${s.url}/#/batches/${failed.id}`);
    await page.locator('#batch-detail pre.error').waitFor();
    assert.equal(await page.locator('#batch-detail pre.error').textContent(), failed.last_error);
    console.log(`failed batch: ${await shot(page, '3-batch-failed')}`);

    // Batches, filtered by state.
    await page.locator('nav a[data-nav="batches"]').click();
    await page.locator('#filter-state').selectOption('quarantined');
    await page.waitForFunction(() => location.hash === '#/batches?state=quarantined');
    await page.waitForFunction((id) => {
      const rows = document.querySelectorAll('#batches-body tr');
      return rows.length === 1 && rows[0].dataset.key === String(id);
    }, byKey['o3.csv'].id);

    // A table: snapshots and a preview of its rows.
    await page.locator('nav a[data-nav="tables"]').click();
    await page.locator('#tables-body tr[data-key="orders"] a').click();
    await page.locator('#preview-table tbody tr').first().waitFor();
    const header = await page.locator('#preview-table thead th').allTextContents();
    assert.deepEqual(header, ['idint64', 'amountfloat64']);
    const landedIds = new Set([...good.map((l) => l.split(',')[0]), '100', '102']);
    let ids = await page.locator('#preview-table tbody tr td:first-child').allTextContents();
    assert.equal(ids.length, 20);
    for (const id of ids) assert.ok(landedIds.has(id), `preview shows id ${id}, which was never landed`);
    const snapshots = (await getJson(`${s.url}/v1/tables/orders/snapshots`)).snapshots;
    assert.equal(await page.locator('#table-detail table:has(th:text-is("snapshot")) tbody tr').count(), snapshots.length);
    await page.locator('#preview-more').click();
    await page.waitForFunction(() => document.querySelectorAll('#preview-table tbody tr').length === 27);
    ids = await page.locator('#preview-table tbody tr td:first-child').allTextContents();
    assert.deepEqual(new Set(ids), landedIds);
    console.log(`table: ${await shot(page, '4-table-preview')}`);

    // Live: a batch landed while the overview is open appears without a reload.
    await page.goto(s.url + '/');
    await page.locator(`#recent-body tr[data-key="${bad.id}"]`).waitFor();
    await page.evaluate(() => { window.sluiceTestMarker = 'same page'; });
    land(p.landing('orders'), 'o4.csv', csv(['200,2']));
    const fresh = await waitFor('the new batch', async () => {
      const list = await allBatches(s.url);
      return list.find((b) => b.object_key.endsWith('/o4.csv') && b.state === 'committed');
    }, { timeout: 120_000 });
    await page.locator(`#recent-body tr[data-key="${fresh.id}"] .state:text-is("committed")`).waitFor({ timeout: 20_000 });
    assert.equal(await page.evaluate(() => window.sluiceTestMarker), 'same page');
    await page.waitForFunction(() =>
      document.querySelector('#state-counts a[data-state="committed"] b')?.textContent === '4');
    console.log(`live: ${await shot(page, '5-overview-live')}`);

    assert.deepEqual(page.errors, []);
    await context.close();
  } finally {
    await stopServer(s);
  }
});

test('with tokens configured the page asks for one and sends it', async () => {
  const token = 'e2e-' + crypto.randomBytes(16).toString('hex');
  const sha = crypto.createHash('sha256').update(token).digest('hex');
  const p = project('sluice-dash-auth-', ['server:', '  tokens:', `    - { name: e2e, role: reader, sha256: ${sha} }`]);
  land(p.landing('orders'), 'a.csv', csv(['1,1.5']));
  const s = await startApiServer(p.config, ['--log-level', 'warn']);
  try {
    const auth = { Authorization: `Bearer ${token}` };
    await waitFor('the batch', async () => (await allBatches(s.url, auth)).some((b) => b.state === 'committed'),
      { timeout: 120_000 });
    const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
    const page = await openPage(context);
    await page.goto(s.url + '/');
    await page.locator('#auth').waitFor({ state: 'visible' });
    // A wrong token is refused and said so.
    await page.locator('#auth-token').fill('not-the-token');
    await page.locator('#auth-form button[type=submit]').click();
    await page.waitForFunction(() => /refused/.test(document.getElementById('auth-msg').textContent));
    assert.equal(await page.evaluate(() => sessionStorage.getItem('sluice.token')), null);
    await page.locator('#auth-token').fill(token);
    await page.locator('#auth-form button[type=submit]').click();
    await page.locator('#recent-body tr .state:text-is("committed")').waitFor();
    assert.equal(await page.locator('#auth').isVisible(), false);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('sluice.token')), token);
    console.log(`token: ${await shot(page, '6-with-token')}`);
    // The only errors are the browser's notes on the refused requests.
    const unexpected = page.errors.filter((e) => !/status of 401/.test(e));
    assert.deepEqual(unexpected, []);
    assert.ok(page.errors.length >= 1, 'the first requests were refused');
    await context.close();
  } finally {
    await stopServer(s);
  }
});

// Issue 13's target: first paint under 1 s on loopback with 10,000 batches
// in the catalog. Measured in fresh browser contexts while the server works
// through the queue (so under load), printed, never asserted: timing on a
// shared 2-core machine is no pass/fail signal. What is asserted is that
// the page is right and usable at that size: the count, and paging.
test('10,000 batches: first paint measured, counts exact, batches paged', async () => {
  const N = Number(process.env.SLUICE_DASHBOARD_BATCHES || 10_000);
  const p = project('sluice-dash-10k-', [], { orders: ORDERS });
  for (let i = 0; i < N; i++) land(p.landing('orders'), `f${String(i).padStart(5, '0')}.csv`, csv([`${i},1.5`]));
  const s = await startApiServer(p.config, ['--log-level', 'warn']);
  try {
    const t0 = Date.now();
    await waitFor(`${N} registered batches`, async () => {
      const st = await getJson(s.url + '/v1/status');
      return Object.values(st.batches_by_state).reduce((a, b) => a + b, 0) >= N;
    }, { timeout: 600_000, every: 1000 });
    console.log(`${N} batches registered in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    const runs = [];
    let page;
    for (let i = 0; i < 3; i++) {
      const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
      page = await openPage(context);
      await page.goto(s.url + '/');
      await page.waitForFunction(() => ['first-contentful-paint', 'sluice:overview-batches', 'sluice:overview-status']
        .every((n) => performance.getEntriesByName(n).length > 0), null, { timeout: 120_000 });
      runs.push(await page.evaluate(() => {
        const at = (n) => Math.round(performance.getEntriesByName(n)[0].startTime);
        return { fcp: at('first-contentful-paint'), batches: at('sluice:overview-batches'), status: at('sluice:overview-status') };
      }));
      if (i < 2) await context.close();
    }
    const median = (k) => runs.map((r) => r[k]).sort((a, b) => a - b)[1];
    const st = await getJson(s.url + '/v1/status');
    console.log(`dashboard with ${N} batches (${JSON.stringify(st.batches_by_state)}), 3 fresh loads: ` +
      `first contentful paint ${median('fcp')} ms median (${runs.map((r) => r.fcp).join(', ')}); ` +
      `recent batches shown at ${median('batches')} ms; status (counts) shown at ${median('status')} ms`);

    // The count of every batch, exact.
    await page.waitForFunction((n) => document.querySelector('#state-counts a.count b')?.textContent ===
      new Intl.NumberFormat('en-US').format(n), N);
    // The charts, from the newest pages only (the hour holds more finished
    // batches than the dashboard reads): the note says so.
    await page.locator('#chart-throughput svg').waitFor({ timeout: 60_000 });
    assert.match(await page.locator('#chart-note-throughput').textContent(), /reads the newest [\d,]+ finished batches only/);
    console.log(`10k overview: ${await shot(page, '7-overview-10k')}`);

    // Paging: 50 a page, newest first, older pages strictly older, and back.
    await page.locator('nav a[data-nav="batches"]').click();
    const pageIds = async () => (await page.locator('#batches-body tr').evaluateAll(
      (rows) => rows.map((r) => Number(r.dataset.key))));
    await page.waitForFunction(() => document.querySelectorAll('#batches-body tr').length === 50);
    const first = await pageIds();
    assert.deepEqual(first, [...first].sort((a, b) => b - a));
    assert.equal(first[0], N);  // the newest, in a catalog holding exactly these
    await page.locator('#page-older').click();
    await page.waitForFunction((min) => {
      const rows = document.querySelectorAll('#batches-body tr');
      return rows.length === 50 && Array.from(rows).every((r) => Number(r.dataset.key) < min);
    }, Math.min(...first));
    const second = await pageIds();
    assert.equal(second[0], Math.min(...first) - 1);
    console.log(`10k batches, page 2: ${await shot(page, '8-batches-page-2')}`);
    await page.locator('#page-newer').click();
    await page.waitForFunction((want) => {
      const rows = Array.from(document.querySelectorAll('#batches-body tr')).map((r) => Number(r.dataset.key));
      return JSON.stringify(rows) === JSON.stringify(want);
    }, first);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  } finally {
    await stopServer(s);
  }
});
