// Issue 13, "Logs": `sluice server` writes JSON lines by default (text with
// --log-format text or $SLUICE_LOG_FORMAT, the default of every other
// command); every line about a batch carries batch_id, attempt, pipeline and
// version; and no secret (a DSN's password, an S3 session token) is ever
// printed, by any command, in any format: every byte the runs wrote is
// searched for them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { freshPostgres, land, psql, s3Put, sluice, sluiceOk, tempDir } from './lib.mjs';

const TS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const TEXT_LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3} (trace|debug|info|warning|error|critical) /;

// Every line of `text` (a server's stdout, where spdlog writes) as JSON: a
// line that is not an object with ts, level and msg fails the test.
function jsonLines(text) {
  const lines = text.split('\n').filter((l) => l !== '');
  return lines.map((l) => {
    let j;
    assert.doesNotThrow(() => { j = JSON.parse(l); }, `not a JSON line: ${l}`);
    assert.equal(typeof j, 'object', l);
    assert.match(j.ts, TS, l);
    assert.equal(typeof j.level, 'string', l);
    assert.equal(typeof j.msg, 'string', l);
    return j;
  });
}

// Lines about a batch: their message starts "batch N" (the processor's, the
// worker's and the loader's lines).
const batchOf = (msg) => { const m = /^batch (\d+)\b/.exec(msg); return m ? Number(m[1]) : null; };

function project(outputs = '', catalog = './store/catalog.db') {
  const dir = tempDir('sluice-logs-');
  fs.mkdirSync(path.join(dir, 'pipelines'));
  const config = path.join(dir, 'sluice.yaml');
  fs.writeFileSync(config, [
    'store_root: ./store', `catalog: ${catalog}`, 'pipelines_dir: ./pipelines',
    'workers: 2', 'poll_interval: 50ms', 'lease: 5s',
    // Any free port for the HTTP service: tests may run side by side.
    'server: { listen: "127.0.0.1:0" }', ''].join('\n'));
  fs.writeFileSync(path.join(dir, 'pipelines', 'orders.yaml'), `pipeline: orders
source: { pattern: "*.csv", format: csv }
schema:
  id: int64 not null
  amount: decimal(10,2)
on_bad_record: fail
outputs:
  - table: orders
  - sqlite: { path: sink.db, table: orders }
${outputs}`);
  fs.writeFileSync(path.join(dir, 'pipelines', 'events.yaml'), `pipeline: events
source: { pattern: "*.csv", format: csv }
schema:
  id: int64 not null
  v: int64
on_bad_record: quarantine
max_bad_ratio: 0.1
outputs:
  - table: events
`);
  const landing = (p) => path.join(dir, 'store', 'landing', p);
  return { dir, config, landing };
}

test('server logs JSON lines; lines about a batch carry its id, attempt, pipeline and version',
  { timeout: 120_000 }, () => {
    const p = project();
    land(p.landing('orders'), 'a.csv', 'id,amount\n1,1.50\n2,2.50\n');
    land(p.landing('orders'), 'b.csv', 'id,amount\n3,"3.50"\n');
    land(p.landing('orders'), 'bad.csv', 'id,amount\n4,4.00\nnot-a-number,5\n');
    land(p.landing('events'), 'e.csv', 'id,v\n1,1\nx,2\n3,3\n');

    const r = sluice(['-c', p.config, 'server', '--exit-when-idle', '--log-level', 'debug']);
    assert.equal(r.status, 3, `one batch failed:\n${r.stdout}\n${r.stderr}`);
    const lines = jsonLines(r.stdout);
    assert.ok(lines.length >= 10, `debug logs many lines: ${lines.length}`);
    const batches = new Map(JSON.parse(sluiceOk(['-c', p.config, 'batches', '--json']).stdout)
      .map((b) => [b.id, b]));
    assert.equal(batches.size, 4);
    const states = [...batches.values()].map((b) => b.state).sort();
    assert.deepEqual(states, ['committed', 'committed', 'failed', 'quarantined']);

    let about = 0;
    const loaded = new Set();
    for (const j of lines) {
      const id = batchOf(j.msg) ?? j.batch_id;
      if (id === undefined) {
        assert.ok(!('attempt' in j) && !('version' in j), `context without a batch: ${JSON.stringify(j)}`);
        continue;
      }
      ++about;
      const b = batches.get(id);
      assert.ok(b, `a line about an unknown batch: ${JSON.stringify(j)}`);
      assert.equal(j.batch_id, id, JSON.stringify(j));
      assert.equal(j.pipeline, b.pipeline, JSON.stringify(j));
      assert.equal(j.version, b.pipeline_version, JSON.stringify(j));
      assert.ok(Number.isInteger(j.attempt) && j.attempt >= 1 && j.attempt <= b.attempts,
        JSON.stringify(j));
      if (/ -> sqlite:.* rows loaded/.test(j.msg)) loaded.add(id);
    }
    // Every batch's outcome is logged (the worker's "batch N: committed").
    for (const [id, b] of batches) {
      assert.ok(lines.some((j) => j.batch_id === id && j.msg.includes(`: ${b.state} (`)),
        `no outcome line for batch ${id} (${b.state})`);
    }
    assert.ok(about >= 4, `${about} line(s) about batches`);
    const committedOrders = [...batches.values()]
      .filter((b) => b.pipeline === 'orders' && b.state === 'committed').map((b) => b.id);
    assert.deepEqual([...loaded].sort(), committedOrders.sort(), 'the loader\'s lines have the context');
    // Levels are spdlog's names.
    assert.ok(lines.every((j) => ['trace', 'debug', 'info', 'warning', 'error', 'critical']
      .includes(j.level)), 'levels');
    // stderr has the summary for people, never a log line.
    assert.match(r.stderr, /1 problem\(s\) left work undone/);
  });

test('--log-format and SLUICE_LOG_FORMAT choose the format; other commands default to text',
  { timeout: 120_000 }, () => {
    const p = project();
    const file = path.join(p.dir, 'in.csv');
    fs.writeFileSync(file, 'id,amount\n1,1.50\n');

    // ingest: text by default, with the context after the message.
    const ingest = sluiceOk(['-c', p.config, '--log-level', 'info', 'ingest', '-p', 'orders', file]);
    const text = ingest.stdout.split('\n').filter((l) => TEXT_LINE.test(l));
    assert.ok(text.length > 0, ingest.stdout);
    assert.ok(!ingest.stdout.split('\n').some((l) => l.startsWith('{')), ingest.stdout);
    assert.ok(text.some((l) => /^\S+ info batch 1: committed .* batch_id=1 attempt=1 pipeline=orders version=\d+$/
      .test(l)), text.join('\n'));

    // The environment asks for JSON.
    fs.writeFileSync(file, 'id,amount\n2,2.50\n');
    const env = { ...process.env, SLUICE_LOG_FORMAT: 'json' };
    const asJson = sluiceOk(['-c', p.config, '--log-level', 'info', 'ingest', '-p', 'orders', file],
      { env });
    const objects = jsonLines(asJson.stdout.split('\n').filter((l) => l.startsWith('{')).join('\n'));
    assert.ok(objects.some((j) => j.batch_id === 2 && j.pipeline === 'orders' && j.attempt === 1),
      asJson.stdout);

    // The flag wins over the environment; the server in text.
    land(p.landing('orders'), 'c.csv', 'id,amount\n3,3.50\n');
    const server = sluiceOk(['-c', p.config, 'server', '--exit-when-idle', '--log-format', 'text'],
      { env });
    const serverLines = server.stdout.split('\n').filter((l) => l !== '');
    assert.ok(serverLines.length > 0);
    for (const l of serverLines) assert.match(l, TEXT_LINE);
    assert.ok(serverLines.some((l) => /batch_id=3 attempt=1 pipeline=orders version=\d+$/.test(l)),
      server.stdout);

    // Neither json nor text: refused, naming the culprit.
    const badEnv = sluice(['-c', p.config, 'status'], { env: { ...process.env, SLUICE_LOG_FORMAT: 'xml' } });
    assert.equal(badEnv.status, 2, badEnv.stderr);
    assert.match(badEnv.stderr, /SLUICE_LOG_FORMAT: log format 'xml' is not json or text/);
    const badFlag = sluice(['-c', p.config, '--log-format', 'xml', 'status']);
    assert.notEqual(badFlag.status, 0);
    assert.match(badFlag.stderr, /log-format/);
  });

const PG = process.env.SLUICE_TEST_PG_DSN;
const S3 = process.env.SLUICE_TEST_S3_ENDPOINT;

test('no command ever prints a password or a token, in either format',
  { timeout: 300_000, skip: !PG && 'SLUICE_TEST_PG_DSN is not set (scripts/test-services.sh)' },
  async (t) => {
    // The test server trusts loopback connections: PostgreSQL accepts and
    // ignores these passwords, which only have to never be printed.
    const PASSWORD = `Catalog-Pw-${process.pid}-q7`;
    const OUTPUT_PASSWORD = `Output-Pw-${process.pid}-k2`;
    const KV_PASSWORD = `Kv-Pw-${process.pid}-z9`;
    const TOKEN = `Session-Token-${process.pid}-x4`;
    const secrets = [PASSWORD, OUTPUT_PASSWORD, KV_PASSWORD, TOKEN];

    const catalogDb = freshPostgres('sluice_logs_catalog');
    const targetDb = freshPostgres('sluice_logs_target');
    t.after(() => {
      for (const db of [catalogDb, targetDb]) {
        psql(PG, `DROP DATABASE IF EXISTS ${new URL(db).pathname.slice(1)} WITH (FORCE)`);
      }
    });
    const withPassword = (uri, pw) => { const u = new URL(uri); u.password = pw; return u.toString(); };
    const catalog = withPassword(catalogDb, PASSWORD);
    const target = new URL(targetDb);
    // Outputs: a URI with a password, into a table whose check refuses the
    // rows (a failed delivery, its error naming the database), and a libpq
    // key/value string with one.
    psql(targetDb, 'CREATE TABLE orders_uri (id bigint NOT NULL, ' +
      'amount numeric(10,2) CHECK (amount < 2), _sluice_batch_id bigint)');
    const kv = `host=${target.hostname} port=${target.port} dbname=${target.pathname.slice(1)} ` +
      `user=${target.username} password=${KV_PASSWORD}`;
    const p = project([
      `  - postgres: { dsn: "${withPassword(targetDb, OUTPUT_PASSWORD)}", table: orders_uri }`,
      `  - postgres: { dsn: "${kv}", table: orders_kv }`, ''].join('\n'), catalog);
    land(p.landing('orders'), 'a.csv', 'id,amount\n1,1.50\n2,2.50\n');
    land(p.landing('orders'), 'bad.csv', 'id,amount\nnope,1\n');
    land(p.landing('events'), 'e.csv', 'id,v\n1,1\nx,2\n');

    // With the S3 test server, S3 requests carry a session token (s3rver
    // does not check it); trace logs everything there is to log.
    const env = { ...process.env, SLUICE_LOG: 'trace' };
    if (S3) {
      Object.assign(env, { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER',
        AWS_SESSION_TOKEN: TOKEN });
    }

    const outputs = [];
    const run = (config, args) => {
      const r = sluice(['-c', config, ...args], { env });
      outputs.push({ args, text: r.stdout + r.stderr });
      return r;
    };
    assert.equal(run(p.config, ['validate', '--connect']).status, 0, outputs.at(-1).text);
    const first = run(p.config, ['server', '--exit-when-idle']);
    assert.equal(first.status, 3, `${first.stdout}\n${first.stderr}`);
    jsonLines(first.stdout);
    const batches = JSON.parse(run(p.config, ['batches', '--json']).stdout);
    assert.equal(batches.length, 3, JSON.stringify(batches));
    const good = batches.find((b) => b.pipeline === 'orders' && b.state === 'committed');
    assert.ok(good, JSON.stringify(batches));
    assert.equal(psql(targetDb, 'SELECT count(*) FROM orders_kv'), '2');
    const refused = good.deliveries.find((d) => d.output.includes('orders_uri'));
    assert.equal(refused.state, 'failed', JSON.stringify(good.deliveries));
    assert.match(refused.last_error, /violates check constraint/);
    run(p.config, ['--log-format', 'text', 'replay', String(good.id), '--delivery', 'all']);
    run(p.config, ['server', '--exit-when-idle', '--log-format', 'text']);
    for (const args of [['status'], ['status', '--json'], ['batches'], ['check', '--json'],
      ['tables', '--json'], ['--log-format', 'json', 'replay', String(good.id)]]) {
      run(p.config, args);
    }
    // Databases that do not exist: the errors name them, without the password.
    const lost = project(
      `  - postgres: { dsn: "${withPassword(`${targetDb}_missing`, OUTPUT_PASSWORD)}", table: t }\n`);
    assert.notEqual(run(lost.config, ['validate', '--connect']).status, 0);
    const broken = path.join(p.dir, 'broken.yaml');
    fs.writeFileSync(broken, fs.readFileSync(p.config, 'utf8')
      .replace(catalog, withPassword(`${catalogDb}_missing`, PASSWORD)));
    assert.notEqual(run(broken, ['server', '--exit-when-idle']).status, 0);
    assert.notEqual(run(broken, ['status']).status, 0);

    if (S3) {
      const q = project('', './catalog.db');
      const prefix = `logs-${process.pid}`;
      const bucket = process.env.SLUICE_TEST_S3_BUCKET || 'sluice-test';
      fs.writeFileSync(q.config, fs.readFileSync(q.config, 'utf8').replace('store_root: ./store',
        `store_root: s3://${bucket}/${prefix}\ns3_endpoint: ${S3}`));
      await s3Put(`${prefix}/landing/events/e.csv`, 'id,v\n1,1\n2,2\n');
      const s = run(q.config, ['server', '--exit-when-idle']);
      assert.equal(s.status, 0, s.stdout + s.stderr);
      const st = run(q.config, ['status', '--json']);
      assert.equal(JSON.parse(st.stdout).batches_by_state.committed, 1, st.stdout);
    }

    const all = outputs.map((o) => o.text).join('\n');
    assert.ok(all.length > 10_000, `the runs said enough to be worth searching (${all.length} bytes)`);
    // The DSNs were there to print: redacted.
    assert.match(all, /postgresql:\/\/postgres:\*\*\*@/);
    for (const o of outputs) {
      for (const secret of secrets) {
        assert.ok(!o.text.includes(secret), `sluice ${o.args.join(' ')} printed a secret:\n${o.text}`);
      }
    }
  });
