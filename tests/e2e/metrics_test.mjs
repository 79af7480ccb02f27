// Issue 13, "Metrics": a real server's /metrics scraped with a bearer token,
// linted by `promtool check metrics`, and its values compared with what
// `sluice batches --json` says; deploy/prometheus' alert rules checked and
// unit-tested with promtool; and a real Prometheus, configured from the
// example prometheus.yml, scraping the server: every query of the Grafana
// dashboard must parse and find its series, and every alert rule must
// evaluate cleanly (one of them pending on the failed batch).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  freePort, land, sleep, sluiceJson, sluiceOk, startApiServer, tempDir, waitFor, writeProject,
} from './lib.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const DEPLOY = path.join(ROOT, 'deploy', 'prometheus');

const SPEC = `pipeline: events
source: { pattern: "*.csv", format: csv }
schema:
  id: int64 not null
  v: int64
on_bad_record: quarantine
max_bad_ratio: 0.3
deadline: 1h
expect_every: 1h
outputs:
  - table: events
  - sqlite: { path: ./out.db, table: events }
`;

function installed(cmd) {
  const r = spawnSync(cmd, ['--version'], { encoding: 'utf8' });
  return !r.error && r.status === 0;
}

// The exposition text as samples: {name, labels: {..}, value}.
function parseExposition(text) {
  const samples = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
    assert.ok(m, `bad line: ${line}`);
    let i = m[1].length;
    const labels = {};
    if (line[i] === '{') {
      i++;
      while (line[i] !== '}') {
        const eq = line.indexOf('=', i);
        const name = line.slice(i, eq);
        assert.equal(line[eq + 1], '"', line);
        let v = '';
        let j = eq + 2;
        for (; line[j] !== '"'; j++) {
          if (line[j] === '\\') {
            j++;
            v += line[j] === 'n' ? '\n' : line[j];
          } else {
            v += line[j];
          }
        }
        labels[name] = v;
        i = j + 1;
        if (line[i] === ',') i++;
      }
      i++;
    }
    assert.equal(line[i], ' ', line);
    const raw = line.slice(i + 1);
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    assert.ok(!Number.isNaN(value) || raw === 'NaN', line);
    samples.push({ name: m[1], labels, value });
  }
  return samples;
}

// The value of the one sample `name` with exactly `labels` (undefined if none).
function valueOf(samples, name, labels) {
  const want = JSON.stringify(Object.entries(labels).sort());
  const found = samples.filter((s) => s.name === name &&
    JSON.stringify(Object.entries(s.labels).sort()) === want);
  assert.ok(found.length <= 1, `${name} ${want} appears ${found.length} times`);
  return found.length ? found[0].value : undefined;
}

// Polls until fn() holds, through errors (a server not up yet), every 200 ms.
const poll = (what, fn, timeout = 60000) => waitFor(what, fn, { timeout, every: 200, retryErrors: true });

// Every `expr` of the dashboard's panels (rows' nested panels included).
function dashboardExprs(dash) {
  const out = [];
  const walk = (panels) => {
    for (const p of panels || []) {
      for (const t of p.targets || []) if (t.expr) out.push({ panel: p.title, expr: t.expr });
      walk(p.panels);
    }
  };
  walk(dash.panels);
  return out;
}

test('/metrics: lint-clean, true to the catalog, and usable by the rules and the dashboard', async (t) => {
  if (!installed('promtool')) {
    t.skip('promtool is not installed (Debian package prometheus; scripts/install-deps.sh)');
    return;
  }
  const token = `slc_${crypto.randomBytes(32).toString('hex')}`;
  const sha = crypto.createHash('sha256').update(token).digest('hex');
  const { dir, config } = writeProject('sluice-metrics-', ['store_root: ./store', 'catalog: ./store/catalog.db',
    'pipelines_dir: ./pipelines', 'workers: 2', 'poll_interval: 50ms', 'lease: 5s', 'server:',
    '  tokens:', `    - { name: prometheus, role: reader, sha256: ${sha} }`], { events: SPEC });
  const landing = path.join(dir, 'store', 'landing', 'events');
  land(landing, 'a.csv', 'id,v\n1,1\n2,2\n3,3\n');
  let big = 'id,v\n';
  for (let i = 0; i < 5000; i++) big += `${i},${i * 2}\n`;
  land(landing, 'big.csv', big);
  land(landing, 'one-bad.csv', 'id,v\n4,4\n5,x\n6,6\n7,7\n');  // 1 of 4 bad: committed
  land(landing, 'mostly-bad.csv', 'id,v\nx,1\ny,2\n8,8\n');     // 2 of 3 bad: quarantined
  land(landing, 'wrong-header.csv', 'a,b\n1,2\n');              // failed

  const server = await startApiServer(config, ['--log-level', 'warn']);
  const auth = { Authorization: `Bearer ${token}` };
  const scrape = async () => {
    const r = await fetch(`${server.url}/metrics`, { headers: auth });
    assert.equal(r.status, 200);
    return { type: r.headers.get('content-type'), text: await r.text() };
  };
  let prometheus;
  try {
    const terminal = new Set(['committed', 'quarantined', 'failed', 'damaged']);
    const batches = await poll('every batch to end and every task to go', async () => {
      const list = sluiceJson(config, ['batches']);
      if (list.length !== 5 || !list.every((b) => terminal.has(b.state))) return null;
      const s = parseExposition((await scrape()).text);
      const idle = ['process', 'load'].every((k) => valueOf(s, 'sluice_queue_depth', { kind: k }) === 0);
      return idle ? list : null;
    });

    // Without a token: refused (tokens are configured).
    assert.equal((await fetch(`${server.url}/metrics`)).status, 401);
    const { type, text } = await scrape();
    assert.equal(type, 'text/plain; version=0.0.4; charset=utf-8');

    // promtool's linter: exit 0 and nothing to say.
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(lint.status, 0, lint.stdout + lint.stderr);
    assert.equal(lint.stdout + lint.stderr, '', 'promtool check metrics found problems');

    const s = parseExposition(text);
    const count = (state) => batches.filter((b) => b.state === state).length;
    assert.deepEqual([count('committed'), count('quarantined'), count('failed')], [3, 1, 1],
      JSON.stringify(batches.map((b) => [b.object_key, b.state, b.reason])));
    for (const state of ['landed', 'queued', 'processing', 'committing', 'committed', 'failed',
      'quarantined', 'damaged']) {
      assert.equal(valueOf(s, 'sluice_batches', { pipeline: 'events', state }), count(state), state);
    }
    for (const outcome of ['committed', 'quarantined', 'failed']) {
      assert.equal(valueOf(s, 'sluice_batches_finished_total', { pipeline: 'events', outcome }),
        count(outcome), outcome);
    }
    const ended = batches.filter((b) => b.state === 'committed' || b.state === 'quarantined');
    const sum = (f) => ended.reduce((a, b) => a + f(b), 0);
    const rows = (direction) => valueOf(s, 'sluice_rows_total', { pipeline: 'events', direction });
    assert.equal(rows('in'), sum((b) => b.rows_read));
    assert.equal(rows('out'), sum((b) => b.rows_written));
    assert.equal(rows('quarantined'), sum((b) => b.rows_quarantined));
    assert.equal(rows('in'), 3 + 5000 + 4 + 3);
    assert.equal(rows('out'), 3 + 5000 + 3);
    assert.equal(rows('quarantined'), 3);
    assert.equal(valueOf(s, 'sluice_input_bytes_total', { pipeline: 'events' }),
      sum((b) => b.size_bytes));

    // Histograms: cumulative buckets ending at +Inf == _count.
    const histogram = (name, labels) => {
      const buckets = s.filter((x) => x.name === `${name}_bucket` &&
        Object.entries(labels).every(([k, v]) => x.labels[k] === v));
      assert.ok(buckets.length > 1, name);
      for (let i = 1; i < buckets.length; i++) {
        assert.ok(Number(buckets[i].labels.le) > Number(buckets[i - 1].labels.le) ||
          buckets[i].labels.le === '+Inf', `${name}: le out of order`);
        assert.ok(buckets[i].value >= buckets[i - 1].value, `${name}: not cumulative`);
      }
      assert.equal(buckets.at(-1).labels.le, '+Inf');
      const n = valueOf(s, `${name}_count`, labels);
      assert.equal(buckets.at(-1).value, n);
      return { count: n, sum: valueOf(s, `${name}_sum`, labels) };
    };
    const duration = histogram('sluice_batch_duration_seconds', { pipeline: 'events' });
    assert.equal(duration.count, 5);
    assert.ok(duration.sum > 0);
    assert.equal(histogram('sluice_batch_latency_seconds', { pipeline: 'events' }).count, 5);
    assert.ok(histogram('sluice_task_duration_seconds', { kind: 'process' }).count >= 5);

    // Deliveries into the SQLite output: one per committed batch, all rows.
    const output = s.find((x) => x.name === 'sluice_deliveries_total').labels.output;
    assert.match(output, /^sqlite:.*#events$/);
    assert.equal(valueOf(s, 'sluice_deliveries_total', { output, outcome: 'delivered' }), count('committed'));
    assert.equal(valueOf(s, 'sluice_rows_loaded_total', { output }), rows('out'));
    assert.equal(histogram('sluice_load_duration_seconds', { output }).count, count('committed'));

    // The failed batch's error, by port and class; every port and class is there.
    assert.equal(valueOf(s, 'sluice_errors_total', { port: 'processing', class: 'permanent' }), 1);
    for (const port of ['store', 'catalog', 'queue', 'output', 'processing']) {
      for (const cls of ['transient', 'permanent', 'fenced']) {
        assert.notEqual(valueOf(s, 'sluice_errors_total', { port, class: cls }), undefined);
        assert.notEqual(valueOf(s, 'sluice_retries_total', { port, class: cls }), undefined);
      }
    }

    // Workers, queue, build, HTTP.
    for (const kind of ['process', 'load']) {
      assert.equal(valueOf(s, 'sluice_workers', { kind }), 2, kind);
      assert.equal(valueOf(s, 'sluice_workers_busy', { kind }), 0, kind);
      assert.equal(valueOf(s, 'sluice_queue_oldest_age_seconds', { kind }), 0, kind);
      assert.equal(valueOf(s, 'sluice_queue_leased', { kind }), 0, kind);
    }
    const version = sluiceOk(['--version']).stdout.trim().split(' ')[1];
    assert.equal(valueOf(s, 'sluice_build_info', { version }), 1);
    assert.ok(valueOf(s, 'sluice_http_requests_total', { route: '/metrics', method: 'GET', code: '200' }) >= 1);
    assert.ok(valueOf(s, 'sluice_http_requests_total', { route: '/metrics', method: 'GET', code: '401' }) >= 1);
    assert.ok(histogram('sluice_http_request_duration_seconds', { route: '/metrics' }).count >= 2);

    // The alert rules: valid, and their unit tests pass.
    const rules = spawnSync('promtool', ['check', 'rules', path.join(DEPLOY, 'alerts.yml')], { encoding: 'utf8' });
    assert.equal(rules.status, 0, rules.stdout + rules.stderr);
    const ruleTests = spawnSync('promtool', ['test', 'rules', 'alerts_test.yml'], { cwd: DEPLOY, encoding: 'utf8' });
    assert.equal(ruleTests.status, 0, ruleTests.stdout + ruleTests.stderr);
    assert.match(ruleTests.stdout, /SUCCESS/);

    if (!installed('prometheus')) {
      t.diagnostic('prometheus is not installed: the dashboard queries were not checked');
      return;
    }
    // A throwaway Prometheus from the example configuration: this server as
    // the target, the token from a file, a 1 s scrape and evaluation.
    const pdir = tempDir('sluice-prometheus-');
    const tokenFile = path.join(pdir, 'sluice.token');
    fs.writeFileSync(tokenFile, `${token}\n`);
    let example = fs.readFileSync(path.join(DEPLOY, 'prometheus.yml'), 'utf8');
    const target = new URL(server.url).host;
    for (const [from, to] of [
      [/scrape_interval: 15s/, 'scrape_interval: 1s'],
      [/evaluation_interval: 15s/, 'evaluation_interval: 1s'],
      [/\/etc\/prometheus\/sluice\.token/, tokenFile],
      [/- alerts\.yml/, `- ${path.join(DEPLOY, 'alerts.yml')}`],
      [/- sluice-1\.example\.internal:8080\n/, `- ${target}\n`],
      [/ *- sluice-2\.example\.internal:8080\n/, ''],
    ]) {
      assert.match(example, from, 'deploy/prometheus/prometheus.yml changed shape');
      example = example.replace(from, to);
    }
    const pconfig = path.join(pdir, 'prometheus.yml');
    fs.writeFileSync(pconfig, example);
    const checked = spawnSync('promtool', ['check', 'config', pconfig], { encoding: 'utf8' });
    assert.equal(checked.status, 0, checked.stdout + checked.stderr);

    const port = await freePort();
    prometheus = spawn('prometheus', [`--config.file=${pconfig}`, `--storage.tsdb.path=${path.join(pdir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let plog = '';
    prometheus.stderr.on('data', (d) => { plog += d.toString(); });
    prometheus.exited = new Promise((resolve) => prometheus.on('exit', (code, signal) => resolve({ code, signal })));
    const api = `http://127.0.0.1:${port}`;
    const query = async (q) => {
      const r = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(q)}`);
      return { status: r.status, body: await r.json() };
    };
    await poll(`prometheus to be ready\n${plog}`, async () => (await fetch(`${api}/-/ready`)).ok, 30000);
    // Scraped with the token: up, and a few scrapes in so that rates exist.
    await poll('prometheus to scrape sluice', async () => {
      const r = await query('sluice_rows_total{direction="in"}');
      return r.body.data.result.length === 1 && Number(r.body.data.result[0].value[1]) === rows('in');
    }, 30000);
    const up = await query('up{job="sluice"}');
    assert.equal(up.body.data.result[0].value[1], '1', JSON.stringify(up.body));
    await sleep(4000);

    const dash = JSON.parse(fs.readFileSync(path.join(DEPLOY, 'grafana-dashboard.json'), 'utf8'));
    assert.equal(dash.schemaVersion, 39);
    assert.ok(dash.templating.list.some((v) => v.type === 'datasource' && v.query === 'prometheus'));
    const exprs = dashboardExprs(dash);
    assert.ok(exprs.length >= 20, `only ${exprs.length} queries`);
    // Grafana's variables, as Grafana would fill them for "All".
    const fill = (e) => e.replaceAll('$__rate_interval', '30s').replaceAll('$instance', '.*')
      .replaceAll('$pipeline', '.*');
    for (const { panel, expr } of exprs) {
      assert.ok(!/\$(?!__rate_interval|instance\b|pipeline\b)/.test(expr), `${panel}: unknown variable in ${expr}`);
      const r = await query(fill(expr));
      assert.equal(r.status, 200, `${panel}: ${expr}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.status, 'success', `${panel}: ${expr}`);
      // Every series a panel reads exists here, but the delivery backlog
      // (nothing waits to be delivered).
      if (!expr.includes('sluice_delivery_backlog_rows')) {
        assert.ok(r.body.data.result.length > 0, `${panel}: no data for ${expr}`);
      }
    }
    // The variables' label_values(metric, label) queries.
    for (const v of dash.templating.list.filter((x) => x.type === 'query')) {
      const m = /^label_values\((\w+), (\w+)\)$/.exec(v.query.query);
      assert.ok(m, v.query.query);
      const r = await query(`count by (${m[2]}) (${m[1]})`);
      assert.ok(r.body.data.result.length > 0, v.query.query);
    }
    // A syntax error is a 400: the checks above could fail.
    assert.equal((await query('sum by (state (sluice_batches)')).status, 400);

    // Every alert rule evaluates without error on the real series, and the
    // failed batch makes SluiceFailedBatchesWaiting pending.
    const groups = await poll('the rules to be evaluated', async () => {
      const r = await (await fetch(`${api}/api/v1/rules`)).json();
      const all = r.data.groups.flatMap((g) => g.rules);
      return all.length > 0 && all.every((x) => x.lastEvaluation && !x.lastEvaluation.startsWith('0001')) ? all : null;
    }, 30000);
    assert.equal(groups.length, 13);
    for (const rule of groups) assert.equal(rule.health, 'ok', `${rule.name}: ${rule.lastError}`);
    const waiting = groups.find((x) => x.name === 'SluiceFailedBatchesWaiting');
    assert.equal(waiting.state, 'pending', JSON.stringify(waiting));
    assert.deepEqual(waiting.alerts.map((a) => a.labels.pipeline), ['events']);
  } finally {
    if (prometheus) {
      prometheus.kill('SIGTERM');
      await prometheus.exited;
    }
    server.kill('SIGTERM');
    const { code } = await server.exited;
    assert.equal(code, 0, server.output());
  }
});
