// Shared helpers for sluice's end-to-end tests: temp projects, running the
// binary and its server, waiting for conditions, and independent readers
// (DuckDB for Parquet, the sqlite3 CLI).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

export const SLUICE = process.env.SLUICE_BINARY;
if (!SLUICE || !fs.existsSync(SLUICE)) {
  throw new Error(`SLUICE_BINARY must point at the sluice binary (got ${SLUICE})`);
}

export function tempDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

// A project in a fresh temporary directory: sluice.yaml made of the lines
// `config`, and pipelines/NAME.yaml holding `text` for each NAME: text of
// `pipelines`. Returns {dir, config} (config: the path of sluice.yaml).
export function writeProject(prefix, config, pipelines) {
  const dir = tempDir(prefix);
  fs.mkdirSync(path.join(dir, 'pipelines'));
  for (const [name, text] of Object.entries(pipelines)) {
    fs.writeFileSync(path.join(dir, 'pipelines', `${name}.yaml`), text);
  }
  fs.writeFileSync(path.join(dir, 'sluice.yaml'), [...config, ''].join('\n'));
  return { dir, config: path.join(dir, 'sluice.yaml') };
}

// Runs sluice to completion; returns {status, stdout, stderr}.
export function sluice(args, opts = {}) {
  const r = spawnSync(SLUICE, args, { encoding: 'utf8', maxBuffer: 1 << 28, ...opts });
  if (r.error) throw r.error;
  return r;
}

export function sluiceOk(args, opts = {}) {
  const r = sluice(args, opts);
  if (r.status !== 0) {
    throw new Error(`sluice ${args.join(' ')} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  }
  return r;
}

// Runs sluice with --json after `args`; returns the parsed output.
export function sluiceJson(config, args) {
  return JSON.parse(sluiceOk(['-c', config, ...args, '--json']).stdout);
}

// Every server started by a test; killed when the test process exits so that a
// failed assertion never leaves a daemon behind (or keeps node alive).
const servers = new Set();
export function killServers() {
  for (const s of servers) s.kill('SIGKILL');
}
process.on('exit', killServers);

// The one place that spawns `sluice -c CONFIG server ARGS...`. The child gets
// `exited` (resolves to {code, signal} once it ended and its output is read),
// `stderrText` (its stderr so far) and `output()` (its stdout, which is the
// log, with keepLog, and its stderr, as they came). Other spawn options (env,
// cwd) pass through.
function spawnServer(config, args, { keepLog = false, ...spawnOptions } = {}) {
  const child = spawn(SLUICE, ['-c', config, 'server', ...args], {
    stdio: ['ignore', keepLog ? 'pipe' : 'ignore', 'pipe'], ...spawnOptions,
  });
  let text = '';
  child.output = () => text;
  child.stderrText = '';
  if (keepLog) child.stdout.on('data', (d) => { text += d.toString(); });
  child.stderr.on('data', (d) => {
    const s = d.toString();
    child.stderrText += s;
    text += s;
  });
  child.exited = new Promise((resolve) => child.on('close', (code, signal) => {
    servers.delete(child);
    resolve({ code, signal });
  }));
  servers.add(child);
  return child;
}

// Starts `sluice server` on a free loopback port with `extra` arguments and
// returns the child at once, without waiting for it to listen (see
// spawnServer for what it carries). options: logLevel ('warn'), logFormat
// (the server's own default when not given), keepLog (false: the log, on
// stdout, goes nowhere; true: it is in output() too).
export function startServer(config, extra = [], options = {}) {
  const { logLevel = 'warn', logFormat, ...rest } = options;
  const format = logFormat ? ['--log-format', logFormat] : [];
  return spawnServer(config, ['--log-level', logLevel, ...format, '--listen', '127.0.0.1:0', ...extra], rest);
}

// Starts `sluice server` with its HTTP service on a free loopback port and
// resolves, once it listens, to the child with `url` (from the line
// "sluice server: listening on URL" on stdout) and `output()` (everything
// it wrote to stdout and stderr so far). No --log-level is added: pass one
// in `extra`. Rejects when the server exits first or does not listen within
// options.listenTimeout ms (60 s). Killed when the test process exits.
export function startApiServer(config, extra = [], options = {}) {
  const { listenTimeout = 60_000, ...spawnOptions } = options;
  const child = spawnServer(config, ['--listen', '127.0.0.1:0', ...extra], { ...spawnOptions, keepLog: true });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(
      `sluice server did not listen within ${listenTimeout} ms:\n${child.output()}`)), listenTimeout);
    child.stdout.on('data', () => {
      const m = /sluice server: listening on (\S+)/.exec(child.output());
      if (m && !child.url) {
        clearTimeout(timer);
        child.url = m[1];
        resolve(child);
      }
    });
    child.exited.then(({ code, signal }) => {
      clearTimeout(timer);
      if (!child.url) reject(new Error(`sluice server exited (${code ?? signal}) before listening:\n${child.output()}`));
    });
  });
}

// Resolves to the child's exit ({code, signal}), or rejects after `ms` (the
// timer is cleared, so that it does not keep node alive).
export function exitWithin(child, ms) {
  let timer;
  const timeout = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no exit within ${ms} ms\n${child.output()}`)), ms);
  });
  return Promise.race([child.exited, timeout]).finally(() => clearTimeout(timer));
}

// SIGTERM, and SIGKILL if the server has not exited after `graceMs`;
// resolves to its exit.
export async function stopServer(child, graceMs = 20_000) {
  child.kill('SIGTERM');
  try {
    return await exitWithin(child, graceMs);
  } catch {
    child.kill('SIGKILL');
    return child.exited;
  }
}

// Polls fn() every `every` ms until it returns something truthy, and returns
// that. Throws after `timeout` ms, naming `what` and the last value. An error
// thrown by fn() ends the wait at once, unless retryErrors: then it is the
// last value and the polling goes on (for a file or server not there yet).
export async function waitFor(what, fn, { timeout = 60_000, every = 100, retryErrors = false } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      if (!retryErrors) throw e;
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}; last: ` +
                      (last instanceof Error ? last.stack : JSON.stringify(last)?.slice(0, 4000)));
    }
    await sleep(every);
  }
}

// A free TCP port on loopback (for a helper server that needs one named).
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// Writes a file into a landing directory the way a producer must: a temporary
// name first, then an atomic rename.
export function land(dir, name, content) {
  const target = path.join(dir, name);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const tmp = path.join(path.dirname(target), `.${path.basename(name)}.tmp`);
  fs.writeFileSync(tmp, content);
  fs.renameSync(tmp, target);
}

let duck;
export async function duckdb(sql) {
  if (!duck) duck = await (await DuckDBInstance.create(':memory:')).connect();
  const reader = await duck.runAndReadAll(sql);
  return reader.getRowObjectsJS();
}

export function sqlite(db, sql) {
  const r = spawnSync('sqlite3', ['-json', db, sql], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sqlite3 failed: ${r.stderr}`);
  return r.stdout.trim() ? JSON.parse(r.stdout) : [];
}

// A fresh PostgreSQL database on the test server (SLUICE_TEST_PG_DSN, started by
// scripts/test-services.sh); returns its URI. Throws, naming what to do, when
// the server is not configured: a shared-backend test never skips itself.
let pgDatabases = 0;
export function freshPostgres(prefix) {
  const admin = process.env.SLUICE_TEST_PG_DSN;
  if (!admin) {
    throw new Error('SLUICE_TEST_PG_DSN is not set: run scripts/test-services.sh start DIR and ' +
                    'export DIR/env, or run scripts/test.sh');
  }
  const name = `${prefix}_${process.pid}_${pgDatabases++}`;
  for (const sql of [`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`, `CREATE DATABASE ${name}`]) {
    const r = spawnSync('psql', [admin, '-qXc', sql], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`psql: ${r.stderr}`);
  }
  const u = new URL(admin);
  u.pathname = `/${name}`;
  return u.toString();
}

// Runs one SQL statement with psql; returns its unaligned, tuples-only output.
export function psql(dsn, sql) {
  const r = spawnSync('psql', [dsn, '-qXAtc', sql], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`psql ${sql}: ${r.stderr}`);
  return r.stdout.trim();
}

// The S3 test server (SLUICE_TEST_S3_ENDPOINT, s3rver, started by
// scripts/test-services.sh). s3rver takes unsigned requests, so the tests
// read and write it with plain fetch; sluice itself signs (and its signatures
// are checked against botocore in the unit tests).
export function s3Endpoint() {
  const endpoint = process.env.SLUICE_TEST_S3_ENDPOINT;
  if (!endpoint) {
    throw new Error('SLUICE_TEST_S3_ENDPOINT is not set: run scripts/test-services.sh start DIR ' +
                    'and export DIR/env, or run scripts/test.sh');
  }
  process.env.AWS_ACCESS_KEY_ID ||= 'S3RVER';
  process.env.AWS_SECRET_ACCESS_KEY ||= 'S3RVER';
  return { endpoint, bucket: process.env.SLUICE_TEST_S3_BUCKET || 'sluice-test' };
}

export async function s3Put(key, body) {
  const { endpoint, bucket } = s3Endpoint();
  const r = await fetch(`${endpoint}/${bucket}/${key}`, { method: 'PUT', body });
  if (!r.ok) throw new Error(`PUT ${key}: ${r.status} ${await r.text()}`);
}

export async function s3Get(key) {
  const { endpoint, bucket } = s3Endpoint();
  const r = await fetch(`${endpoint}/${bucket}/${key}`);
  if (!r.ok) throw new Error(`GET ${key}: ${r.status} ${await r.text()}`);
  return Buffer.from(await r.arrayBuffer());
}

// Every key under `prefix` (ListObjectsV2, all pages).
export async function s3List(prefix) {
  const { endpoint, bucket } = s3Endpoint();
  const keys = [];
  let token = '';
  for (;;) {
    const q = new URLSearchParams({ 'list-type': '2', prefix });
    if (token) q.set('continuation-token', token);
    const r = await fetch(`${endpoint}/${bucket}?${q}`);
    const xml = await r.text();
    if (!r.ok) throw new Error(`LIST ${prefix}: ${r.status} ${xml}`);
    for (const m of xml.matchAll(/<Key>([^<]*)<\/Key>/g)) {
      keys.push(m[1].replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>')
        .replace(/&quot;/g, '"').replace(/&apos;/g, "'"));
    }
    const next = xml.match(/<NextContinuationToken>([^<]*)<\/NextContinuationToken>/);
    if (!next) break;
    token = next[1];
  }
  return keys;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
