// `sluice test`: pipeline unit tests (NAME.test.yaml beside NAME.yaml) on the
// bundled quickstart, on a broken expectation, and on `sluice init`'s scaffold.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { sluice, sluiceOk, tempDir } from './lib.mjs';

const REPO = process.env.SLUICE_SOURCE_DIR ?? path.resolve(import.meta.dirname, '..', '..');

function quickstart() {
  const dir = tempDir('sluice-test-cmd-');
  fs.cpSync(path.join(REPO, 'examples', 'quickstart'), dir, { recursive: true });
  return dir;
}

test('the quickstart pipelines pass their tests', () => {
  const dir = quickstart();
  const r = sluiceOk(['test'], { cwd: dir });
  assert.match(r.stdout, /^PASS orders: /m);
  assert.match(r.stdout, /^PASS customers: /m);
  assert.doesNotMatch(r.stdout, /FAIL/);
  const summary = r.stdout.trim().split('\n').at(-1);
  assert.match(summary, /^\d+ passed, 0 failed$/);
  assert.ok(Number(summary.split(' ')[0]) >= 4, summary);
  // Testing touches no project data: no catalog, no store.
  assert.ok(!fs.existsSync(path.join(dir, 'store')));

  // By name, by pipeline file and by test file; --json.
  const one = sluiceOk(['test', 'customers'], { cwd: dir });
  assert.doesNotMatch(one.stdout, /orders/);
  sluiceOk(['-c', path.join(dir, 'sluice.yaml'), 'test', path.join(dir, 'pipelines', 'orders.yaml')]);
  const json = JSON.parse(sluiceOk(['test', '--json', 'pipelines/orders.test.yaml'], { cwd: dir }).stdout);
  assert.equal(json.failed, 0);
  assert.equal(json.errors, 0);
  assert.equal(json.files[0].pipeline, 'orders');
  assert.ok(json.files[0].tests.every((t) => t.status === 'pass'));
});

test('a broken expectation fails with a diff naming the cell', () => {
  const dir = quickstart();
  const file = path.join(dir, 'pipelines', 'orders.test.yaml');
  const text = fs.readFileSync(file, 'utf8');
  assert.ok(text.includes('quantity: 9'));
  fs.writeFileSync(file, text.replace('quantity: 9', 'quantity: 10'));
  const r = sluice(['test'], { cwd: dir });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /^FAIL orders: a resent order replaces the earlier version/m);
  assert.match(r.stdout, /^ {4}- \{ order_id: 1, customer_id: 1017, quantity: 10, /m);
  assert.match(r.stdout, /^ {4}\+ \{ order_id: 1, customer_id: 1017, quantity: 9, /m);
  assert.match(r.stdout, /column quantity: expected "10", got "9"/);
  assert.match(r.stdout, /^PASS customers: /m);
  assert.match(r.stdout, /\d+ passed, 1 failed/);

  const json = JSON.parse(sluice(['test', '--json'], { cwd: dir }).stdout);
  assert.equal(json.failed, 1);
  const failed = json.files.flatMap((f) => f.tests).filter((t) => t.status === 'fail');
  assert.equal(failed.length, 1);
  assert.match(failed[0].outputs[0].first_difference, /column quantity/);
});

test('an unexpected bad record and a missing one are both reported', () => {
  const dir = quickstart();
  const file = path.join(dir, 'pipelines', 'customers.test.yaml');
  const text = fs.readFileSync(file, 'utf8');
  fs.writeFileSync(file, text.replace('{ line: 3, field: vip, reason: "expected bool" }',
    '{ line: 3, field: country }'));
  const r = sluice(['test', 'customers'], { cwd: dir });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /bad records: 1 expected but not rejected, 1 rejected unexpectedly/);
  assert.match(r.stdout, /- \{ line: 3, field: country \}/);
  assert.match(r.stdout, /\+ \{ line: 3, field: vip, reason: "expected bool/);
});

test('errors in a test file exit 2 and name the file and line', () => {
  const dir = quickstart();
  const file = path.join(dir, 'pipelines', 'orders.test.yaml');
  fs.writeFileSync(file, 'tests:\n  - name: x\n    input: []\n    expect:\n      order: []\n');
  const r = sluice(['test'], { cwd: dir });
  assert.equal(r.status, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /orders\.test\.yaml:5: tests\[0\]\.expect: unknown output 'order' \(did you mean 'orders'\?\)/);
  assert.match(r.stdout, /^PASS customers: /m);  // other files still run

  const missing = sluice(['test', 'nosuch'], { cwd: dir });
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /'nosuch' is neither a file nor a pipeline/);
});

test('sluice init scaffolds a pipeline with passing tests', () => {
  const root = tempDir('sluice-test-init-');
  const dir = path.join(root, 'proj');
  const init = sluiceOk(['init', dir]);
  assert.match(init.stdout, /example\.test\.yaml/);
  assert.ok(fs.existsSync(path.join(dir, 'pipelines', 'example.test.yaml')));
  sluiceOk(['validate'], { cwd: dir });  // the test file is not taken for a pipeline
  const r = sluiceOk(['test'], { cwd: dir });
  assert.match(r.stdout, /^PASS example: the last version of an id wins$/m);
  assert.match(r.stdout, /^PASS example: rows that do not fit the schema are rejected$/m);
  assert.match(r.stdout, /^2 passed, 0 failed$/m);
});
