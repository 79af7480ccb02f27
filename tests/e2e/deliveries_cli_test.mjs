// Deliveries into PostgreSQL as the CLI shows them, against a real PostgreSQL
// (SLUICE_TEST_PG_DSN): `batches` and `status` (text and --json) show a
// delivered and a failed delivery with PostgreSQL's error, `replay --delivery`
// refuses what it cannot retry and retries a failed one from its staged rows
// without processing the batch again, and no output ever shows the DSN's
// password.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { freshPostgres, killServers, land, psql, sluice, tempDir } from './lib.mjs';

after(killServers);

// The test server trusts loopback connections, so PostgreSQL accepts and
// ignores this password: it only has to never be printed.
const PASSWORD = 'pw-Never-Printed-7f3a';

test('batches, status and replay --delivery with a failed PostgreSQL delivery', async (t) => {
  const admin = freshPostgres('sluice_cli_deliveries');
  const dbName = new URL(admin).pathname.slice(1);
  t.after(() => {
    psql(process.env.SLUICE_TEST_PG_DSN, `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  });
  const u = new URL(admin);
  u.password = PASSWORD;
  const dsn = u.toString();
  assert.ok(dsn.includes(PASSWORD));
  // Amounts of 100 and up break the check: one of the two files does.
  psql(admin, 'CREATE TABLE orders (id bigint NOT NULL, ' +
    'amount numeric(10,2) CHECK (amount < 100), _sluice_batch_id bigint)');

  const dir = tempDir('sluice-deliveries-');
  fs.mkdirSync(path.join(dir, 'pipelines'));
  const cfg = path.join(dir, 'sluice.yaml');
  fs.writeFileSync(cfg, [
    'store_root: ./store', 'catalog: ./store/catalog.db', 'pipelines_dir: ./pipelines',
    'workers: 2', 'poll_interval: 50ms', 'lease: 5s', ''].join('\n'));
  fs.writeFileSync(path.join(dir, 'pipelines', 'orders.yaml'), `pipeline: orders
source: { pattern: "*.csv", format: csv }
schema:
  id: int64 not null
  amount: decimal(10,2)
outputs:
  - table: orders
  - postgres: { dsn: "${dsn}", table: orders }
`);
  const landing = path.join(dir, 'store', 'landing', 'orders');
  land(landing, 'small.csv', 'id,amount\n1,1.25\n2,2.25\n');
  land(landing, 'large.csv', 'id,amount\n98,98.25\n99,99.25\n100,100.25\n');

  // Every output of every command, checked for the password at the end.
  const outputs = [];
  const run = (args) => {
    const r = sluice(['-c', cfg, ...args]);
    outputs.push({ args, text: r.stdout + r.stderr });
    return r;
  };
  const ok = (args) => {
    const r = run(args);
    assert.equal(r.status, 0, `sluice ${args.join(' ')}:\n${r.stdout}\n${r.stderr}`);
    return r;
  };
  const json = (args) => JSON.parse(ok([...args, '--json']).stdout);
  const serve = () => {
    // Failed deliveries are the operator's to replay: not a failed run (0),
    // though a server may choose to say so (3).
    const r = run(['server', '--exit-when-idle', '--log-level', 'info']);
    assert.ok(r.status === 0 || r.status === 3, `server exited ${r.status}:\n${r.stdout}${r.stderr}`);
    return r;
  };

  // validate --connect reaches the database and checks the table offline
  // of any load; a table it could not take is an error naming the column.
  const connected = ok(['validate', '--connect']);
  assert.match(connected.stdout, /output postgres:.*#orders: connected; the table exists/);
  psql(admin, 'ALTER TABLE orders ALTER COLUMN amount TYPE numeric(12,2)');
  const refused = run(['validate', '--connect', '--json']);
  assert.equal(refused.status, 2, refused.stdout + refused.stderr);
  const check = JSON.parse(refused.stdout)[0].outputs[1].connect;
  assert.equal(check.ok, false);
  assert.match(check.message, /column 'amount' is numeric\(12,2\) but the output writes numeric\(10,2\)/);
  psql(admin, 'ALTER TABLE orders ALTER COLUMN amount TYPE numeric(10,2)');

  const first = serve();
  assert.match(first.stdout + first.stderr, /violates check constraint/);

  // batches --json: both batches committed (the lake has both), one
  // delivery each: small delivered, large failed with PostgreSQL's error.
  let batches = json(['batches']);
  assert.equal(batches.length, 2);
  const byKey = Object.fromEntries(batches.map((b) => [path.basename(b.object_key), b]));
  const small = byKey['small.csv'];
  const large = byKey['large.csv'];
  for (const b of batches) {
    assert.equal(b.state, 'committed');
    assert.equal(b.deliveries.length, 1);
    const d = b.deliveries[0];
    assert.match(d.output, /^postgres:postgresql:\/\/postgres:\*\*\*@.*#orders$/);
    assert.equal(d.target, d.output);
    assert.equal(d.attempt, 1);
    assert.equal(d.tries, 1);
    assert.ok(d.bytes > 0 && d.updated_us > 0, JSON.stringify(d));
    assert.equal(d.args, undefined, 'a delivery\'s args (its DSN) are never shown');
  }
  assert.equal(small.deliveries[0].state, 'delivered');
  assert.equal(small.deliveries[0].rows, 2);
  assert.equal(small.deliveries[0].last_error, '');
  assert.equal(small.done, true);
  const failed = large.deliveries[0];
  assert.equal(failed.state, 'failed');
  assert.equal(failed.rows, 3);
  assert.match(failed.last_error, /violates check constraint "orders_amount_check"/);
  assert.match(failed.last_error, /Failing row contains \(100, 100\.25/);
  assert.match(failed.last_error, /23514/);
  assert.equal(large.done, false);
  assert.equal(psql(admin, 'SELECT count(*) FROM orders'), '2');

  // The text table: a summary per batch and the failed delivery's line.
  const text = ok(['batches']).stdout;
  assert.match(text.split('\n')[0], /\bdeliveries\b/);
  const line = (id) => text.split('\n').find((l) => l.startsWith(`${id} `));
  assert.match(line(small.id), / 1\/1 delivered /);
  assert.match(line(large.id), / 0\/1 delivered, 1 failed /);
  assert.ok(text.includes(`-> ${failed.output}: failed, 1 try: `), text);
  assert.match(text, /violates check constraint/);
  assert.match(text, new RegExp(`sluice replay ${large.id} --delivery all`));

  // status --json: the output's backlog (nothing pending, one failed) and
  // the queue by task kind.
  let status = json(['status']);
  assert.deepEqual(status.queue_depth_by_kind, { process: 0, load: 0, export: 0 });
  assert.equal(status.deliveries.length, 1);
  assert.deepEqual(status.deliveries[0], {
    output: failed.output, target: failed.target, pending: 0, failed: 1, rows: 3,
    bytes: failed.bytes, oldest_pending_seconds: null,
  });
  const statusText = ok(['status']).stdout;
  assert.match(statusText, /queue +0 task\(s\): 0 process, 0 load/);
  assert.match(statusText, /deliveries not yet delivered:\n +pending +failed +rows +bytes +oldest +output\n +0 +1 +3 /);

  // replay --delivery refuses, naming why, and changes nothing.
  let r = run(['replay', String(small.id), '--delivery', 'all']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /has no failed delivery \(1\/1 delivered\)/);
  r = run(['replay', String(small.id), '--delivery', small.deliveries[0].output]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /is delivered, not failed/);
  r = run(['replay', String(large.id), '--delivery', 'postgres:nowhere#orders']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /has no delivery to 'postgres:nowhere#orders'; its outputs are:/);
  assert.ok(r.stderr.includes(failed.output), r.stderr);
  r = run(['replay', '999', '--delivery', 'all']);
  assert.equal(r.status, 2);
  r = run(['replay', String(large.id), '--delivery', 'all', '--latest-version']);
  assert.notEqual(r.status, 0);
  // One bad id among several retries nothing.
  r = run(['replay', String(large.id), String(small.id), '--delivery', 'all']);
  assert.equal(r.status, 2);
  assert.equal(json(['batches']).find((b) => b.id === large.id).deliveries[0].state, 'failed');

  // Fix the cause, retry the failed delivery: pending with a load task, and
  // the batch is not processed again.
  psql(admin, 'ALTER TABLE orders DROP CONSTRAINT orders_amount_check');
  r = ok(['replay', String(large.id), '--delivery', 'all']);
  assert.ok(r.stdout.includes(`batch ${large.id} -> ${failed.output}: pending again`), r.stdout);
  status = json(['status']);
  assert.deepEqual(status.queue_depth_by_kind, { process: 0, load: 1, export: 0 });
  assert.equal(status.deliveries[0].pending, 1);
  assert.equal(status.deliveries[0].failed, 0);
  assert.equal(typeof status.deliveries[0].oldest_pending_seconds, 'number');
  assert.ok(status.deliveries[0].oldest_pending_seconds >= 0);

  serve();
  batches = json(['batches']);
  for (const b of batches) {
    assert.equal(b.state, 'committed');
    assert.equal(b.attempts, 1, 'a delivery replay does not process the batch again');
    assert.equal(b.deliveries[0].state, 'delivered', JSON.stringify(b.deliveries));
    assert.equal(b.done, true);
  }
  assert.equal(batches.find((b) => b.id === large.id).deliveries[0].tries, 1);
  status = json(['status']);
  assert.deepEqual(status.deliveries, []);
  assert.deepEqual(status.queue_depth_by_kind, { process: 0, load: 0, export: 0 });
  assert.match(ok(['status']).stdout, /deliveries not yet delivered:\n +\(none\)/);
  assert.equal(psql(admin, 'SELECT count(*) || \'|\' || max(id) FROM orders'), '5|100');

  for (const o of outputs) {
    assert.ok(!o.text.includes(PASSWORD), `sluice ${o.args.join(' ')} printed the password`);
  }
});

test('status shows a pipeline held back by its output\'s backlog', async (t) => {
  const admin = freshPostgres('sluice_cli_backpressure');
  const dbName = new URL(admin).pathname.slice(1);
  t.after(() => {
    psql(process.env.SLUICE_TEST_PG_DSN, `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  });
  const dir = tempDir('sluice-backpressure-');
  fs.mkdirSync(path.join(dir, 'pipelines'));
  const cfg = path.join(dir, 'sluice.yaml');
  // No loaders: the rows wait, above the high mark.
  fs.writeFileSync(cfg, [
    'store_root: ./store', 'catalog: ./store/catalog.db', 'pipelines_dir: ./pipelines',
    'poll_interval: 50ms', 'loaders: 0', ''].join('\n'));
  fs.writeFileSync(path.join(dir, 'pipelines', 'orders.yaml'), `pipeline: orders
source: { pattern: "*.csv", format: csv }
schema:
  id: int64 not null
outputs:
  - postgres: { dsn: "${admin}", table: orders, high_water_rows: 2, low_water_rows: 1 }
`);
  land(path.join(dir, 'store', 'landing', 'orders'), 'a.csv', 'id\n1\n2\n3\n');
  const served = sluice(['-c', cfg, 'server', '--exit-when-idle']);
  assert.equal(served.status, 0, served.stdout + served.stderr);
  const status = JSON.parse(sluice(['-c', cfg, 'status', '--json']).stdout);
  const orders = status.pipelines.find((p) => p.name === 'orders');
  assert.match(orders.waiting, /^backpressure from postgres:.*#orders \(3 rows, \d+ bytes waiting; resumes below 1 rows/);
  const text = sluice(['-c', cfg, 'status']).stdout;
  assert.match(text, /waiting: backpressure from postgres:/);
});
