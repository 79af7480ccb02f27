// Issue 9, item 8 ("wrong success signals"), end to end with the real binary:
// explicit deploys between two servers whose spec files differ, the exit
// status of `server --exit-when-idle`, and a second SIGTERM forcing a draining
// server out without losing or duplicating a batch.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import {
  exitWithin, killServers, land, sleep, sluiceJson, sluiceOk, sqlite, startServer, waitFor, writeProject,
} from './lib.mjs';

after(killServers);

const spec = (pattern, extra = '') => `pipeline: events
source: { pattern: "${pattern}", format: csv }
schema:
  id: int64 not null
  v: int64
${extra}outputs:
  - table: events
`;

function project(specText, extraConfig = []) {
  const { dir, config } = writeProject('sluice-signals-', [
    'store_root: ./store', 'catalog: ./store/catalog.db', 'pipelines_dir: ./pipelines',
    'workers: 1', 'poll_interval: 50ms', 'lease: 5s', ...extraConfig], { events: specText });
  return { dir, config, landing: path.join(dir, 'store', 'landing', 'events'),
    catalog: path.join(dir, 'store', 'catalog.db') };
}

// Polls `sql` on the catalog (which may not exist yet, or be busy: looked at
// again) until `done(rows)`.
function waitForRows(catalog, sql, done) {
  return waitFor(sql, () => {
    const rows = sqlite(catalog, sql);
    return done(rows) && rows;
  }, { timeout: 45_000, every: 20, retryErrors: true });
}

// startServer, with the log (which goes to stdout) in output(), as text.
const startServerWithLog = (config) => startServer(config, [], { logFormat: 'text', keepLog: true });

test('two servers whose spec files differ do not take turns deploying', async () => {
  const p = project(spec('*.csv'));
  // A second process on the same store and catalog, reading its own directory.
  fs.mkdirSync(path.join(p.dir, 'pipelines_b'));
  fs.writeFileSync(path.join(p.dir, 'pipelines_b', 'events.yaml'), spec('*.tsv'));
  const configB = path.join(p.dir, 'sluice_b.yaml');
  fs.writeFileSync(configB, fs.readFileSync(p.config, 'utf8').replace('./pipelines', './pipelines_b'));

  const activeSql = "SELECT active_version_id AS v FROM pipelines WHERE name = 'events'";
  const a = startServerWithLog(p.config);
  const [first] = await waitForRows(p.catalog, activeSql, (r) => r.length === 1);
  // B's file was never deployed from: its first sync is a deploy.
  const b = startServerWithLog(configB);
  await waitForRows(p.catalog, activeSql, (r) => r.length === 1 && r[0].v !== first.v);
  await sleep(300);
  // Both run and poll every 50 ms. Before, each poll deployed its own text
  // (74 deploys in 8 s): the active version flipped between the two.
  const seen = [];
  for (let i = 0; i < 40; i++) {
    seen.push((await waitForRows(p.catalog, activeSql, (r) => r.length === 1))[0].v);
    await sleep(50);
  }
  a.kill('SIGTERM');
  b.kill('SIGTERM');
  assert.equal((await a.exited).code, 0, a.output());
  assert.equal((await b.exited).code, 0, b.output());
  assert.equal(new Set(seen).size, 1, `active version changed while neither file did: ${seen}`);
  const versions = sqlite(p.catalog, "SELECT count(*) AS n FROM pipeline_versions")[0].n;
  assert.equal(versions, 2);
  // The server whose text is not active says so, once (not on every poll).
  const warnings = a.output().split('\n').filter((l) => l.includes('pipeline spec differs'));
  assert.equal(warnings.length, 1, a.output());
  assert.match(warnings[0], /events: .*pipelines\/events\.yaml .* differs from the active version/);
  assert.ok(!b.output().includes('differs'), b.output());
});

test('server --exit-when-idle exits 3 with a summary when a file could not be registered', async () => {
  const p = project(spec('*.csv'));
  sluiceOk(['-c', p.config, 'status']);  // creates the catalog and deploys the spec
  // A catalog that refuses registration (as a damaged or full one would).
  sqlite(p.catalog, "CREATE TRIGGER refuse BEFORE INSERT ON batches BEGIN SELECT RAISE(ABORT, 'registration refused'); END;");
  land(p.landing, 'a.csv', 'id,v\n1,1\n');
  const s = startServer(p.config, ['--exit-when-idle']);
  const { code } = await exitWithin(s, 30_000);
  assert.equal(code, 3, s.stderrText);
  assert.match(s.stderrText, /1 problem\(s\) left work undone:\n {2}landing: landing\/events\/a\.csv: .*registration refused/);
  assert.ok(fs.existsSync(path.join(p.landing, 'a.csv')));

  // Fixed: the next run takes the file and exits 0.
  sqlite(p.catalog, 'DROP TRIGGER refuse;');
  const again = startServer(p.config, ['--exit-when-idle']);
  assert.equal((await exitWithin(again, 30_000)).code, 0, again.stderrText);
  assert.ok(!fs.existsSync(path.join(p.landing, 'a.csv')));
});

test('server --exit-when-idle exits 3 when a batch failed in the run, 0 after a clean run', async () => {
  const p = project(spec('*.csv', 'on_bad_record: fail\n'));
  land(p.landing, 'good.csv', 'id,v\n1,1\n2,2\n');
  land(p.landing, 'bad.csv', 'id,v\n1,1\nnot-a-number,2\n');
  const s = startServer(p.config, ['--exit-when-idle']);
  const { code } = await exitWithin(s, 30_000);
  assert.equal(code, 3, s.stderrText);
  assert.match(s.stderrText, /batch \d+ failed: .*bad\.csv:3: field 'id'/);
  assert.match(s.stderrText, /1 committed, 0 quarantined, 1 failed/);

  const clean = startServer(p.config, ['--exit-when-idle']);
  assert.equal((await exitWithin(clean, 30_000)).code, 0, clean.stderrText);
});

test('a second SIGTERM forces a draining server out; the next run commits the batch once', async () => {
  const p = project(spec('*.csv.gz'), ['threads: 2']);
  // About 1 GB of CSV in a few hundred KB of gzip (the same member repeated),
  // so that processing takes seconds even in a release build.
  const rowsPerMember = 1 << 20;
  const member = zlib.gzipSync(Buffer.from('123456789,987654321\n'.repeat(rowsPerMember)), { level: 1 });
  const members = 48;
  const header = zlib.gzipSync(Buffer.from('id,v\n'));
  land(p.landing, 'big.csv.gz', Buffer.concat([header, ...Array(members).fill(member)]));
  const total = rowsPerMember * members;

  const s = startServer(p.config);
  await waitForRows(p.catalog, 'SELECT state FROM batches', (r) => r.length === 1 && r[0].state === 'processing');
  await sleep(200);  // well into the attempt
  s.kill('SIGTERM');
  await sleep(100);
  s.kill('SIGTERM');
  const started = Date.now();
  const { code } = await exitWithin(s, 8_000);
  assert.equal(code, 4, s.stderrText);
  assert.ok(Date.now() - started < 8_000);
  assert.match(s.stderrText, /forced to stop by a second signal: 1 attempt\(s\) cancelled/);
  const [cut] = sqlite(p.catalog, 'SELECT state, attempts FROM batches');
  assert.equal(cut.state, 'processing', 'the cancelled attempt did not finish');
  assert.equal(sqlite(p.catalog, 'SELECT count(*) AS n FROM data_files')[0].n, 0);

  const next = startServer(p.config, ['--exit-when-idle']);
  assert.equal((await exitWithin(next, 600_000)).code, 0, next.stderrText);
  const [batch] = sluiceJson(p.config, ['batches']);
  assert.equal(batch.state, 'committed');
  assert.equal(batch.attempts, 2);
  assert.equal(batch.rows_written, total);
  const [table] = sluiceJson(p.config, ['tables']);
  assert.equal(table.rows, total);
  const lakeFiles = fs.readdirSync(path.join(p.dir, 'store', 'lake', 'events'), { recursive: true })
    .filter((f) => f.endsWith('.parquet'));
  assert.deepEqual(lakeFiles.sort(), table.data_files.map((f) => path.basename(f.key)).sort());
});
