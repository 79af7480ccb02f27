// Deliveries into PostgreSQL under faults, against real PostgreSQL servers:
//
//  1. PostgreSQL is stopped crash-style (pg_ctl stop -m immediate) while a
//     load is in progress and started again a few seconds later. The lake
//     keeps committing batches while the database is down, the deliveries
//     wait pending with the connection error, the loaders retry (with
//     backoff, behind the circuit breaker) once it is back, and in the end
//     every landed row is in the table exactly once, with one ledger row per
//     batch that agrees with the table. The test runs its own cluster (initdb
//     into a temp dir, as the unprivileged `postgres` user when run as root,
//     like scripts/test-services.sh), since it stops and starts it.
//  2. An output's max_rows_per_second holds within 10% over a ~20 s load of
//     a staged backlog, shared by two loaders (on the shared test PostgreSQL).
//  3. A loader killed (kill -9) in the middle of its COPY: the next server
//     loads the batch exactly once.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  freePort, freshPostgres, killServers, land, psql, sleep, sluice, sluiceJson, startServer, tempDir,
  waitFor, writeProject,
} from './lib.mjs';

const PGBIN = '/usr/lib/postgresql/15/bin';
const IS_ROOT = process.getuid?.() === 0;

// Servers and clusters this file started; stopped when the tests end, pass
// or fail.
const clusters = new Set();
after(() => {
  killServers();
  for (const c of clusters) {
    try {
      c.stop();
      fs.rmSync(c.dir, { recursive: true, force: true });
    } catch (e) {
      console.error(`cluster in ${c.dir} not stopped: ${e.message}`);
    }
  }
});

// startServer, keeping the server's log, which spdlog writes to stdout
// (stderr has the final summary and libpq's notices), in output(), at level
// info, as text (the tests match its lines).
const startServerWithLog = (config, extra = []) =>
  startServer(config, extra, { logLevel: 'info', logFormat: 'text', keepLog: true });

function psqlRows(dsn, sql) {
  const out = psql(dsn, sql);
  return out ? out.split('\n').map((l) => l.split('|')) : [];
}

// Runs a PostgreSQL binary as the user the cluster belongs to: initdb and
// postgres refuse to run as root, so root runs them as `postgres`.
function pgTool(args) {
  const [cmd, argv] = IS_ROOT
    ? ['runuser', ['-u', 'postgres', '--', ...args]]
    : [args[0], args.slice(1)];
  const r = spawnSync(cmd, argv, { encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw r.error;
  return r;
}

// A private PostgreSQL 15 cluster on a free loopback port, with its socket
// in its own directory; trust authentication for the superuser `postgres`.
class PgCluster {
  constructor(dir, port) {
    this.dir = dir;
    this.data = path.join(dir, 'data');
    this.log = path.join(dir, 'pg.log');
    this.port = port;
    this.dsn = `postgresql://postgres@127.0.0.1:${port}/postgres`;
    this.running = false;
  }

  static async create() {
    const dir = tempDir('sluice-pgfault-');
    if (IS_ROOT) {
      const r = spawnSync('chown', ['postgres:postgres', dir], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`chown ${dir}: ${r.stderr}`);
    }
    const c = new PgCluster(dir, await freePort());
    const r = pgTool([`${PGBIN}/initdb`, '-D', c.data, '-U', 'postgres', '-A', 'trust',
      '-E', 'UTF8', '--no-sync']);
    if (r.status !== 0) throw new Error(`initdb: ${r.stdout}\n${r.stderr}`);
    clusters.add(c);
    return c;
  }

  start() {
    const r = pgTool([`${PGBIN}/pg_ctl`, '-D', this.data, '-l', this.log, '-w', '-t', '60', '-o',
      `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start']);
    if (r.status !== 0) {
      let log = '';
      try { log = fs.readFileSync(this.log, 'utf8'); } catch { /* no log yet */ }
      throw new Error(`pg_ctl start: ${r.stdout}\n${r.stderr}\n${log}`);
    }
    this.running = true;
  }

  // Crash-style by default: no checkpoint, connections cut at once.
  stop(mode = 'immediate') {
    if (!this.running) return;
    const r = pgTool([`${PGBIN}/pg_ctl`, '-D', this.data, '-m', mode, '-w', '-t', '60', 'stop']);
    if (r.status !== 0) throw new Error(`pg_ctl stop: ${r.stdout}\n${r.stderr}`);
    this.running = false;
  }
}

function makeCsv(file, rows) {
  const lines = ['id,amount'];
  for (let r = 0; r < rows; r++) {
    const id = file * rows + r;
    lines.push(`${id},${id % 10000}.25`);
  }
  return lines.join('\n') + '\n';
}

function project({ dsn, settings, output }) {
  const lines = (extra) => [
    'store_root: ./store', 'catalog: ./store/catalog.db', 'pipelines_dir: ./pipelines',
    'workers: 2', 'poll_interval: 50ms', 'lease: 10s', ...extra];
  const { dir, config } = writeProject('sluice-pgfault-project-', lines(settings), { orders: `pipeline: orders
source: { pattern: "*.csv", format: csv }
schema:
  id: int64 not null
  amount: decimal(10,2)
outputs:
  - table: orders
  - postgres: { dsn: "${dsn}", table: orders${output ? `, ${output}` : ''} }
` });
  const writeConfig = (extra) => fs.writeFileSync(config, [...lines(extra), ''].join('\n'));
  return { dir, config, writeConfig, landing: path.join(dir, 'store', 'landing', 'orders') };
}

const batchesOf = (config) => sluiceJson(config, ['batches', '--limit', '0']);

// Polls `fn` until it returns a truthy value (errors count as not yet);
// throws `what` (with the last value or error) after `ms`.
const until = (what, ms, fn, every = 200) => waitFor(what, fn, { timeout: ms, every, retryErrors: true });

test('PostgreSQL stopped mid-load and started again: nothing lost, nothing duplicated, ' +
     'lake commits never blocked', { timeout: 240_000 }, async () => {
  const FILES = 30;
  const ROWS = 5000;
  const pg = await PgCluster.create();
  pg.start();
  // The loads are paced (25,000 rows/s for 5,000-row batches, two at a
  // time) so that one is reliably in the middle of its COPY when the
  // database goes away; the files land faster than that, so there is a
  // backlog of loads throughout.
  const p = project({
    dsn: pg.dsn,
    settings: ['loaders: 2', 'max_loads_per_database: 2'],
    output: 'max_concurrency: 2, max_rows_per_second: 25000',
  });
  const server = startServerWithLog(p.config);
  let landed = 0;
  const landNext = () => {
    land(p.landing, `part-${String(landed).padStart(3, '0')}.csv`, makeCsv(landed, ROWS));
    landed++;
  };
  const landSome = async (n, gapMs) => {
    for (let k = 0; k < n && landed < FILES; k++) {
      landNext();
      await sleep(gapMs);
    }
  };
  const committed = (bs) => bs.filter((b) => b.state === 'committed').length;
  const logProblems = () =>
    server.output().split('\n').filter((l) => / (error|warning) /.test(l)).join('\n');
  // A database outage fails no delivery: each stays pending until loaded.
  const assertNoneFailed = (bs) => {
    const failed = bs.flatMap((b) => b.deliveries.filter((d) => d.state === 'failed')
      .map((d) => ({ batch: b.id, tries: d.tries, last_error: d.last_error })));
    assert.deepEqual(failed, [],
      `deliveries failed by the outage:\n${JSON.stringify(failed, null, 1)}\n${logProblems()}`);
  };

  // Before the outage: loads are happening (some delivered, one open now).
  await landSome(10, 100);
  await until('two batches delivered', 60_000,
    () => Number(psql(pg.dsn, "SELECT count(*) FROM pg_tables WHERE tablename = 'sluice_ledger'")) &&
          Number(psql(pg.dsn, 'SELECT count(*) FROM sluice_ledger')) >= 2);
  // A loader inside its COPY, its transaction open (a paced load spends
  // most of its time there, waiting for its rows' tokens).
  await until('a load in the middle of its COPY', 30_000, () => Number(psql(pg.dsn,
    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'sluice loader' " +
    "AND state = 'active' AND query LIKE 'COPY % FROM STDIN%'")) > 0, 20);
  const downAt = Date.now();
  pg.stop('immediate');
  const deliveredBefore = batchesOf(p.config).filter((b) => b.done).length;
  assert.ok(deliveredBefore < FILES, 'the outage comes before everything is delivered');

  // While the database is down: files keep landing and being committed to
  // the lake; deliveries wait pending with the connection error.
  const committedAtStop = committed(batchesOf(p.config));
  await landSome(8, 250);
  const during = await until('batches committed while PostgreSQL is down', 60_000, () => {
    const bs = batchesOf(p.config);
    return committed(bs) >= committedAtStop + 4 &&
           bs.some((b) => b.deliveries.some((d) => d.state === 'pending' && d.last_error !== '')) &&
           bs;
  });
  assertNoneFailed(during);
  assert.equal(pg.running, false);
  assert.notEqual(spawnSync('psql', [pg.dsn, '-qXAtc', 'SELECT 1']).status, 0,
    'PostgreSQL is really down');
  const waiting = during.flatMap((b) => b.deliveries).filter((d) => d.state === 'pending');
  assert.ok(waiting.length >= 4, JSON.stringify(waiting));
  const withError = waiting.filter((d) => d.last_error !== '');
  assert.ok(withError.length >= 1, JSON.stringify(waiting));
  for (const d of withError) {
    assert.match(d.last_error, /connect|server|terminat|closed|refused|shut/i, d.last_error);
  }
  const backlog = sluiceJson(p.config, ['status']).deliveries;
  assert.equal(backlog.length, 1, JSON.stringify(backlog));
  assert.ok(backlog[0].pending >= 4, JSON.stringify(backlog));
  assert.equal(backlog[0].failed, 0, JSON.stringify(backlog));
  const outageMs = Date.now() - downAt;
  const committedDuring = committed(during) - committedAtStop;

  // Back up: the rest lands, and everything is delivered.
  pg.start();
  await landSome(FILES, 100);
  const upAt = Date.now();
  // Stops early on a failed delivery: nothing retries it but a replay.
  const final = await until('every batch done', 120_000, () => {
    const bs = batchesOf(p.config);
    return (bs.some((b) => b.deliveries.some((d) => d.state === 'failed')) ||
            (bs.length === FILES && bs.every((b) => b.state === 'committed' && b.done))) && bs;
  }, 500).catch((e) => { throw new Error(`${e.message}\nserver log:\n${logProblems()}`); });
  assertNoneFailed(final);
  const recoveryMs = Date.now() - upAt;
  console.log(`outage ${outageMs} ms, ${committedDuring} batches committed to the lake meanwhile; ` +
              `all ${FILES} delivered ${recoveryMs} ms after the restart`);

  const total = FILES * ROWS;
  assert.deepEqual(psqlRows(pg.dsn,
    'SELECT count(*), count(DISTINCT id), sum(id), min(id), max(id) FROM orders')[0],
  [String(total), String(total), String((total - 1) * total / 2), '0', String(total - 1)]);
  // One ledger row per batch, and every batch's rows in the table are the
  // ledger's count and the batch's.
  const ledger = psqlRows(pg.dsn,
    'SELECT l.batch_id, l.rows, l.attempt, (SELECT count(*) FROM orders o ' +
    'WHERE o._sluice_batch_id = l.batch_id) FROM sluice_ledger l ORDER BY l.batch_id');
  assert.equal(ledger.length, FILES);
  assert.deepEqual(ledger.map((r) => Number(r[0])), final.map((b) => b.id).sort((a, b) => a - b));
  for (const [id, rows, attempt, inTable] of ledger) {
    assert.equal(rows, String(ROWS), `batch ${id}`);
    assert.equal(inTable, rows, `batch ${id}`);
    assert.equal(attempt, '1', `batch ${id}`);
  }
  assert.equal(psql(pg.dsn, 'SELECT count(*) FROM orders WHERE _sluice_batch_id IS NULL'), '0');
  for (const b of final) {
    assert.equal(b.deliveries.length, 1);
    assert.equal(b.deliveries[0].state, 'delivered');
    assert.equal(b.deliveries[0].rows, ROWS);
    assert.equal(b.deliveries[0].last_error, '');
  }
  assert.ok(final.some((b) => b.deliveries[0].tries > 1), 'some delivery needed a retry');
  // The lake has every row too.
  const lake = sluiceJson(p.config, ['tables']).find((t) => t.name === 'orders');
  assert.equal(lake.rows, total);
  const status = sluiceJson(p.config, ['status']);
  assert.deepEqual(status.deliveries, []);
  assert.deepEqual(status.queue_depth_by_kind, { process: 0, load: 0, export: 0 });
  // The loaders said they would retry.
  const retries = server.output().split('\n').filter((l) => / again in \d+ ms/.test(l));
  assert.ok(retries.length > 0, server.output());
  assert.match(retries[0], /batch \d+ -> postgres:.*: try \d+ failed, again in \d+ ms: /);
  console.log(`${retries.length} retries logged, e.g.\n  ${retries.slice(0, 3).join('\n  ')}`);

  server.kill('SIGTERM');
  const { code } = await server.exited;
  assert.equal(code, 0, server.output());
  pg.stop('fast');
});

test('max_rows_per_second holds within 10% over a ~20 s load', { timeout: 180_000 }, async () => {
  const RATE = 10_000;
  const ROWS = 5000;
  const FILES = 42; // RATE * 21 rows: one second's burst, then ~20 s paced
  const total = FILES * ROWS;
  const admin = freshPostgres('sluice_pg_rate');
  const dbName = new URL(admin).pathname.slice(1);
  // The table exists before sluice loads it, with a column sluice does not
  // write: when each row was inserted by PostgreSQL's clock.
  psql(admin, 'CREATE TABLE orders (id bigint NOT NULL, amount numeric(10,2), ' +
    'inserted_at timestamptz NOT NULL DEFAULT clock_timestamp())');
  const p = project({
    dsn: admin,
    settings: ['loaders: 0'],
    output: `max_concurrency: 2, max_rows_per_second: ${RATE}`,
  });
  try {
    for (let i = 0; i < FILES; i++) {
      land(p.landing, `part-${String(i).padStart(3, '0')}.csv`, makeCsv(i, ROWS));
    }
    // Stage the whole backlog: processed and committed, nothing loaded.
    const staged = sluice(['-c', p.config, 'server', '--exit-when-idle']);
    assert.equal(staged.status, 0, staged.stderr);
    const bs = batchesOf(p.config);
    assert.equal(bs.length, FILES);
    assert.ok(bs.every((b) => b.state === 'committed' && b.deliveries[0].state === 'pending'));
    assert.equal(psql(admin, 'SELECT count(*) FROM orders'), '0');

    // Load it with two loaders sharing the output's bucket, sampling the
    // table's count as it grows.
    p.writeConfig(['loaders: 2']);
    const spawnedAt = Date.now();
    const server = startServerWithLog(p.config, ['--exit-when-idle']);
    const samples = [];
    let exited = false;
    server.exited.then(() => { exited = true; });
    const deadline = Date.now() + 90_000;
    for (;;) {
      const before = Date.now();
      const n = Number(psql(admin, 'SELECT count(*) FROM orders'));
      const after = Date.now();
      samples.push({ t: (before + after) / 2 - spawnedAt, n });
      if (n >= total || exited) break;
      assert.ok(Date.now() < deadline, `loading too slow: ${JSON.stringify(samples.slice(-5))}`);
      await sleep(250);
    }
    const { code } = await server.exited;
    assert.equal(code, 0, server.output());
    assert.equal(psql(admin, 'SELECT count(*) || \'|\' || count(DISTINCT id) FROM orders'),
      `${total}|${total}`, server.output().slice(-6000));
    assert.equal(psql(admin, 'SELECT count(*) FROM sluice_ledger'), String(FILES));

    // 1. PostgreSQL's clock: each batch's rows became visible when its
    //    INSERT ran, right after its tokens were paid for. Over batches past
    //    the first second's burst, rows per second of clock time is the rate.
    const perBatch = psqlRows(admin,
      'SELECT extract(epoch FROM max(inserted_at))::float8, count(*) FROM orders ' +
      'GROUP BY _sluice_batch_id ORDER BY 1')
      .map(([t, n]) => ({ t: Number(t), n: Number(n) }));
    assert.equal(perBatch.length, FILES);
    let cum = 0;
    const points = perBatch.map(({ t, n }) => ({ t, n: (cum += n) }));
    const start = points.find((q) => q.n >= 2 * RATE);
    const end = points[points.length - 1];
    const pgRate = (end.n - start.n) / (end.t - start.t);
    const span = end.t - points[0].t;

    // 2. The samples: a least-squares slope of count over time, between the
    //    end of the burst and the last row.
    const window = samples.filter((s) => s.n >= 2 * RATE && s.n < total);
    assert.ok(window.length >= 20, `too few samples: ${JSON.stringify(samples)}`);
    const mt = window.reduce((a, s) => a + s.t, 0) / window.length;
    const mn = window.reduce((a, s) => a + s.n, 0) / window.length;
    const slope = window.reduce((a, s) => a + (s.t - mt) * (s.n - mn), 0) /
                  window.reduce((a, s) => a + (s.t - mt) ** 2, 0) * 1000;
    console.log(`rate limit ${RATE} rows/s: ${total} rows in ${span.toFixed(2)} s; ` +
                `by PostgreSQL's clock ${pgRate.toFixed(0)} rows/s, ` +
                `sampled ${slope.toFixed(0)} rows/s over ${window.length} samples`);
    assert.ok(Math.abs(pgRate - RATE) <= 0.1 * RATE, `rate by PostgreSQL's clock ${pgRate}`);
    assert.ok(Math.abs(slope - RATE) <= 0.1 * RATE, `sampled rate ${slope}`);
    // Never ahead of the bucket: at most one second's burst plus the rate
    // since the server started (the bucket cannot be older).
    for (const s of samples) {
      assert.ok(s.n <= RATE * (1 + s.t / 1000) + ROWS, `ahead of the limit: ${JSON.stringify(s)}`);
    }
    // The whole load took about total / rate - 1 s (the burst).
    assert.ok(span >= 0.9 * (total / RATE - 1) && span <= 1.1 * (total / RATE), `span ${span}`);
  } finally {
    psql(process.env.SLUICE_TEST_PG_DSN, `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  }
});

// 3. A loader killed (kill -9) in the middle of its COPY: PostgreSQL rolls
//    the transaction back when the connection dies, the delivery stays
//    `loading` with its task leased by the dead process; once the lease has
//    run out the next server loads it, and the rows are there exactly once,
//    with one ledger row per batch.
test('a loader killed mid-COPY: the next one loads the batch exactly once',
  { timeout: 180_000 }, async () => {
    const ROWS = 5000;
    const FILES = 4;
    const admin = freshPostgres('sluice_pg_kill');
    const dbName = new URL(admin).pathname.slice(1);
    const p = project({
      dsn: admin,
      settings: ['loaders: 0'],
      output: 'max_rows_per_second: 4000',  // a load takes over a second
    });
    try {
      for (let i = 0; i < FILES; i++) {
        land(p.landing, `part-${String(i).padStart(3, '0')}.csv`, makeCsv(i, ROWS));
      }
      const staged = sluice(['-c', p.config, 'server', '--exit-when-idle']);
      assert.equal(staged.status, 0, staged.stderr);

      p.writeConfig(['loaders: 1']);
      const first = startServerWithLog(p.config);
      await until('a load in the middle of its COPY', 60_000, () => Number(psql(admin,
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'sluice loader' " +
        "AND state = 'active' AND query LIKE 'COPY % FROM STDIN%'")) > 0, 20);
      first.kill('SIGKILL');
      await first.exited;
      // The killed load left nothing: every row in the table is a whole
      // batch's, with its ledger row.
      await until('the killed COPY rolled back', 20_000, () => Number(psql(admin,
        "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY % FROM STDIN%' " +
        "AND state = 'active'")) === 0);
      const partial = psqlRows(admin, 'SELECT (SELECT count(*) FROM orders), ' +
        '(SELECT coalesce(sum(rows), 0) FROM sluice_ledger)')[0];
      assert.equal(partial[0], partial[1], 'rows without their ledger row after the kill');
      assert.ok(Number(partial[0]) < FILES * ROWS);
      const loading = batchesOf(p.config).filter((b) => b.deliveries[0].state === 'loading');
      assert.equal(loading.length, 1, JSON.stringify(batchesOf(p.config).map((b) => b.deliveries)));

      // The dead loader's lease (10 s) runs out; the next server takes over.
      const second = startServerWithLog(p.config, ['--exit-when-idle']);
      const { code } = await second.exited;
      assert.equal(code, 0, second.output());
      assert.equal(psql(admin, 'SELECT count(*) || \'|\' || count(DISTINCT id) FROM orders'),
        `${FILES * ROWS}|${FILES * ROWS}`);
      assert.equal(psql(admin, 'SELECT count(*) || \'|\' || sum(rows) FROM sluice_ledger'),
        `${FILES}|${FILES * ROWS}`);
      const bs = batchesOf(p.config);
      assert.ok(bs.every((b) => b.done), JSON.stringify(bs.map((b) => b.deliveries)));
      const retried = bs.find((b) => b.id === loading[0].id);
      assert.equal(retried.deliveries[0].tries, 2);
    } finally {
      psql(process.env.SLUICE_TEST_PG_DSN, `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    }
  });
