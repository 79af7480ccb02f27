// kill -9 at random moments while the server ingests a stream of files; after
// restarts, every input row must be in the lake and in the SQLite sink exactly
// once, every batch committed, and no uncommitted file visible in lake/. The
// second test runs two servers on one project and adds zombies: a server
// stopped (SIGSTOP) past its lease while another takes its batches over, then
// resumed (SIGCONT) to carry on with work it no longer owns. The third runs the
// second with the servers sharing a PostgreSQL catalog and task queue, and the
// fourth with that catalog and an S3 store (s3rver) for landing, archive and lake.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  duckdb, freshPostgres, killServers, land, psql, s3Endpoint, s3Get, s3List, s3Put, sleep,
  sluiceOk, sqlite, startServer, tempDir,
} from './lib.mjs';

after(killServers);

const FILES = Number(process.env.CRASH_FILES || 36);
const ROWS = Number(process.env.CRASH_ROWS || 20000);
const KILLS = Number(process.env.CRASH_KILLS || 20);

// Deterministic pseudo-random numbers so that a failure can be replayed.
let seed = Number(process.env.CRASH_SEED || Date.now() % 100000);
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);

function makeFile(i) {
  const lines = ['id,grp,val,day'];
  for (let r = 0; r < ROWS; r++) {
    const id = i * ROWS + r;
    lines.push(`${id},g${id % 7},${id * 3},2026-11-${String(1 + (id % 5)).padStart(2, '0')}`);
  }
  return lines.join('\n') + '\n';
}

let s3Projects = 0;

// `s3`: the store is a fresh prefix of the S3 test bucket instead of ./store.
// Every variant also delivers into a PostgreSQL table (a fresh database).
function setUp(lease, catalog = './store/catalog.db', s3 = false) {
  const dir = tempDir('sluice-crash-');
  const target = freshPostgres('sluice_crash_target');
  fs.mkdirSync(path.join(dir, 'pipelines'));
  const config = path.join(dir, 'sluice.yaml');
  const prefix = s3 ? `crash-${process.pid}-${s3Projects++}` : '';
  const store = s3
    ? [`store_root: s3://${s3Endpoint().bucket}/${prefix}`, `s3_endpoint: ${s3Endpoint().endpoint}`]
    : ['store_root: ./store'];
  fs.writeFileSync(config, [
    ...store, `catalog: ${catalog}`, 'pipelines_dir: ./pipelines',
    'workers: 2', 'poll_interval: 50ms', `lease: ${lease}`, 'max_attempts: 50', ''].join('\n'));
  fs.writeFileSync(path.join(dir, 'pipelines', 'events.yaml'), [
    'pipeline: events',
    'source: { pattern: "*.csv", format: csv }',
    'schema:', '  id: int64 not null', '  grp: string', '  val: int64', '  day: date',
    'on_bad_record: fail',
    'outputs:',
    '  - table: events', '    partition_by: [day]',
    '  - sqlite: { path: sink.db, table: events }',
    `  - postgres: { dsn: "${target}", table: events }`, ''].join('\n'));
  const landing = path.join(dir, 'store', 'landing', 'events');
  let landed = 0;
  const put = (name, content) => (s3 ? s3Put(`${prefix}/landing/events/${name}`, content)
    : land(landing, name, content));
  const landSome = async (n) => {
    for (let k = 0; k < n && landed < FILES; k++, landed++) {
      await put(`part-${String(landed).padStart(3, '0')}.csv`, makeFile(landed));
    }
  };
  return { dir, config, landing, landSome, put, s3: s3 ? prefix : null, target };
}

// Drains the project and checks every row is in the lake and the SQLite sink
// exactly once, the lake directory equals the catalog's files, and nothing is
// left in staging.
async function drainAndVerify({ dir, config, landSome, put, s3, target }) {
  await landSome(FILES);
  // A duplicate landing of an already-processed file must not add rows.
  await put('again-000.csv', makeFile(0));
  // Final run: drain everything (leases of the killed servers expire).
  const final = startServer(config, ['--exit-when-idle']);
  const { code } = await final.exited;
  assert.equal(code, 0, final.stderrText);

  const batches = JSON.parse(sluiceOk(['-c', config, 'batches', '--json']).stdout);
  assert.equal(batches.length, FILES, 'one batch per distinct file');
  for (const b of batches) {
    assert.equal(b.state, 'committed', JSON.stringify(b));
    // Fully done: its rows are in SQLite and PostgreSQL too.
    assert.equal(b.done, true, JSON.stringify(b));
    assert.deepEqual(b.deliveries.map((d) => d.state), ['delivered', 'delivered'],
      JSON.stringify(b));
  }
  assert.equal(batches.reduce((s, b) => s + b.duplicate_landings, 0), 1);

  const total = FILES * ROWS;
  const expectedSum = (total - 1) * total / 2;
  // An S3 lake is copied out first (DuckDB reads local files here); the copy
  // holds every object under lake/, committed or not, like the directory.
  let lakeDir = path.join(dir, 'store', 'lake', 'events');
  let lakeUrl = (f) => path.join(lakeDir, f);
  if (s3) {
    lakeDir = path.join(dir, 'lake-copy');
    const prefix = `${s3}/lake/events/`;
    for (const key of await s3List(prefix)) {
      const local = path.join(lakeDir, key.slice(prefix.length));
      fs.mkdirSync(path.dirname(local), { recursive: true });
      fs.writeFileSync(local, await s3Get(key));
    }
    lakeUrl = (f) => `s3://${s3Endpoint().bucket}/${prefix}${f}`;
  }
  const lakeGlob = path.join(lakeDir, '**', '*.parquet');
  const [lake] = await duckdb(
    `SELECT count(*)::BIGINT AS n, count(DISTINCT id)::BIGINT AS d, sum(id)::BIGINT AS s,
            sum(CASE WHEN val = id * 3 THEN 0 ELSE 1 END)::BIGINT AS wrong
     FROM read_parquet('${lakeGlob}', hive_partitioning = false)`);
  assert.deepEqual(lake, { n: BigInt(total), d: BigInt(total), s: BigInt(expectedSum), wrong: 0n });

  // The catalog's view equals the directory's: no orphan or missing files.
  const tables = JSON.parse(sluiceOk(['-c', config, 'tables', '--json']).stdout);
  const events = tables.find((t) => t.name === 'events');
  assert.equal(events.rows, total);
  const listed = events.data_files.map((f) => f.path).sort();
  const onDisk = fs.readdirSync(lakeDir, { recursive: true })
    .filter((f) => f.endsWith('.parquet'))
    .map(lakeUrl).sort();
  assert.deepEqual(onDisk, listed);

  const [sink] = sqlite(path.join(dir, 'sink.db'),
    'SELECT count(*) AS n, count(DISTINCT id) AS d, sum(id) AS s FROM events');
  assert.deepEqual(sink, { n: total, d: total, s: expectedSum });
  // PostgreSQL: every row exactly once, one ledger row per batch, each
  // batch's rows from the attempt its ledger row names.
  assert.equal(psql(target, 'SELECT count(*), count(DISTINCT id), sum(id) FROM events'),
    `${total}|${total}|${expectedSum}`);
  assert.equal(psql(target, 'SELECT count(*), sum(rows) FROM sluice_ledger'),
    `${FILES}|${total}`);
  assert.equal(psql(target, `SELECT count(*) FROM (SELECT _sluice_batch_id, count(*) AS n
      FROM events GROUP BY 1) e JOIN sluice_ledger l ON l.batch_id = e._sluice_batch_id
      WHERE l.rows <> e.n`), '0');
  // sluice check agrees: every file and archive matches what was recorded.
  const check = JSON.parse(sluiceOk(['-c', config, 'check', '--json']).stdout);
  assert.deepEqual(check.problems, []);

  // Nothing left in staging once everything is committed and a server has started again.
  const again = startServer(config, ['--exit-when-idle']);
  assert.equal((await again.exited).code, 0);
  const staging = path.join(dir, 'store', 'staging');
  const leftovers = s3
    ? (await s3List(`${s3}/staging/`)).filter((f) => f.endsWith('.parquet') || f.endsWith('.ndjson'))
    : fs.existsSync(staging)
      ? fs.readdirSync(staging, { recursive: true }).filter((f) => f.endsWith('.parquet') || f.endsWith('.ndjson'))
      : [];
  assert.deepEqual(leftovers, []);
  return { total, retried: batches.filter((b) => b.attempts > 1).length };
}

test('kill -9 at random points loses and duplicates nothing', { timeout: 600_000 }, async () => {
  console.log(`crash test seed ${seed}`);
  const project = setUp('1s');
  await project.landSome(4);
  let kills = 0;
  while (kills < KILLS) {
    const server = startServer(project.config);
    // Let it run from a few ms (start-up, recovery) to a few hundred (mid-batch, commits).
    await sleep(20 + Math.floor(rand() * 400));
    await project.landSome(1 + Math.floor(rand() * 3));
    await sleep(Math.floor(rand() * 150));
    server.kill('SIGKILL');
    const { signal } = await server.exited;
    assert.equal(signal, 'SIGKILL', `server ended on its own: ${server.stderrText}`);
    kills++;
  }
  const { total, retried } = await drainAndVerify(project);
  console.log(`crash test: ${kills} kills, ${FILES} files, ${total} rows, ` +
              `${retried} batches re-run after a kill mid-processing; exactly once`);
});

// Two servers on one project; at each step one of them is killed (kill -9)
// or stopped past its lease (SIGSTOP) and resumed later (SIGCONT), so that a
// zombie wakes up in the middle of work another server has taken over. The
// attempt fencing must make everything the zombie still writes harmless.
const POINTS = Number(process.env.CRASH_POINTS || 24);

async function twoServers(name, project) {
  console.log(`${name} seed ${seed}`);
  const LEASE_MS = 1000;
  await project.landSome(4);
  const servers = [startServer(project.config), startServer(project.config)];
  const stopped = new Set();
  let kills = 0;
  let zombies = 0;
  for (let point = 0; point < POINTS; point++) {
    await sleep(20 + Math.floor(rand() * 300));
    await project.landSome(1 + Math.floor(rand() * 2));
    const i = Math.floor(rand() * 2);
    const s = servers[i];
    if (stopped.has(s)) {
      // Wake the zombie: it resumes mid-attempt, its lease long gone.
      s.kill('SIGCONT');
      stopped.delete(s);
      continue;
    }
    if (rand() < 0.5) {
      s.kill('SIGKILL');
      const { signal } = await s.exited;
      assert.equal(signal, 'SIGKILL', `server ended on its own: ${s.stderrText}`);
      servers[i] = startServer(project.config);
      kills++;
    } else {
      s.kill('SIGSTOP');
      stopped.add(s);
      zombies++;
      // Past the lease, so that the other server takes its batches over.
      await sleep(LEASE_MS + 200 + Math.floor(rand() * 800));
    }
  }
  for (const s of stopped) s.kill('SIGCONT');
  // Let the zombies finish what they still believe is theirs, then stop both.
  await sleep(1500);
  for (const s of servers) s.kill('SIGKILL');
  await Promise.all(servers.map((s) => s.exited));
  const { total, retried } = await drainAndVerify(project);
  console.log(`${name}: ${POINTS} points (${kills} kills, ${zombies} zombies), ` +
              `${FILES} files, ${total} rows, ${retried} batches re-run; exactly once`);
}

test('two servers, kill -9 and SIGSTOP zombies: exactly once', { timeout: 900_000 }, async () => {
  await twoServers('two-server crash test', setUp('1000ms'));
});

test('two servers sharing a PostgreSQL catalog and queue: exactly once', { timeout: 900_000 },
  async () => {
    await twoServers('PostgreSQL crash test', setUp('1000ms', freshPostgres('sluice_crash')));
  });

test('two servers sharing a PostgreSQL catalog and an S3 store: exactly once',
  { timeout: 900_000 }, async () => {
    await twoServers('PostgreSQL + S3 crash test',
      setUp('1000ms', freshPostgres('sluice_crash'), true));
  });
