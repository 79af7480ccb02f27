// The HTTP service from outside: the real binary, real sockets. Uploads
// stream in bounded memory, TLS serves with a configured certificate, tokens
// never appear in any output, a non-loopback address needs tokens, and a
// drain keeps answering (readyz 503) while batches finish.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { sluice, startApiServer, tempDir, waitFor } from './lib.mjs';

const SPEC = `pipeline: events
source:
  pattern: "*.csv"
  format: csv
schema:
  id: int64 not null
  name: string
on_bad_record: quarantine
max_bad_ratio: 0.5
outputs:
  - table: events
`;

function project(server = '') {
  const dir = tempDir('sluice-api-');
  fs.mkdirSync(path.join(dir, 'pipelines'));
  fs.writeFileSync(path.join(dir, 'pipelines', 'events.yaml'), SPEC);
  const config = path.join(dir, 'sluice.yaml');
  fs.writeFileSync(config, `store_root: ./store\ncatalog: ./catalog.db\npipelines_dir: ./pipelines\n` +
    `poll_interval: 100ms\nworkers: 1\n${server}`);
  return { dir, config };
}

function sha256(text) {
  return crypto.createHash('sha256').update(text).digest('hex');
}

// Peak resident memory of a process so far, in bytes (VmHWM).
function peakRss(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]) * 1024;
}

test('a large chunked upload streams in bounded memory and is one batch', async () => {
  const p = project();
  // AddressSanitizer keeps freed memory in a quarantine (256 MiB by default),
  // which would count as growth: keep it small so the RSS measures the upload.
  const env = { ...process.env,
    ASAN_OPTIONS: `${process.env.ASAN_OPTIONS ? `${process.env.ASAN_OPTIONS}:` : ''}quarantine_size_mb=8` };
  const server = await startApiServer(p.config, ['--log-level', 'warn'], { env });
  try {
    // 256 MiB of CSV generated on the fly, sent chunked (no Content-Length).
    const total = 256 << 20;
    const line = 'x'.repeat(100);
    let sent = 0;
    let id = 0;
    const hash = crypto.createHash('sha256');
    const body = new Readable({
      read() {
        if (sent >= total) return this.push(null);
        let chunk = sent === 0 ? 'id,name\n' : '';
        while (chunk.length < (1 << 20)) chunk += `${id++},${line}\n`;
        sent += chunk.length;
        hash.update(chunk);
        this.push(chunk);
      },
    });
    const before = peakRss(server.pid);
    const r = await fetch(`${server.url}/v1/landing/events/big.csv`, {
      method: 'PUT', body, duplex: 'half',
    });
    const j = await r.json();
    assert.equal(r.status, 201, JSON.stringify(j));
    assert.equal(j.sha256, hash.digest('hex'));
    assert.equal(j.bytes, sent);
    const growth = peakRss(server.pid) - before;
    console.log(`upload of ${(sent / 1048576).toFixed(0)} MiB: peak RSS grew ${(growth / 1048576).toFixed(1)} MiB`);
    assert.ok(growth < sent / 4, `peak RSS grew by ${growth} bytes for a ${sent}-byte upload`);
    // The batch is processed by the server's workers.
    const batch = await waitFor('the upload to commit', async () => {
      const b = await (await fetch(`${server.url}/v1/batches/${j.batch_id}`)).json();
      return b.state === 'committed' ? b : null;
    }, 300000);
    assert.equal(batch.rows_written, id);
    assert.equal(batch.object_key, 'upload://big.csv');
  } finally {
    server.kill('SIGTERM');
    await server.exited;
  }
});

test('TLS with a configured certificate, and tokens never show up in any output', async () => {
  const dir = tempDir('sluice-tls-');
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key,
    '-out', cert, '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1'],
  { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  const tokens = {};
  let block = `server:\n  tls_cert: ${cert}\n  tls_key: ${key}\n  tokens:\n`;
  for (const role of ['reader', 'ingester', 'admin']) {
    tokens[role] = `slc_${crypto.randomBytes(32).toString('hex')}`;
    block += `    - { name: ${role}-bot, role: ${role}, sha256: ${sha256(tokens[role])} }\n`;
  }
  const p = project(block);
  const server = await startApiServer(p.config, ['--log-level', 'trace']);
  const ca = fs.readFileSync(cert);
  const request = (method, url, token, body) => new Promise((resolve, reject) => {
    const req = https.request(url, {
      method, ca, headers: token ? { Authorization: `Bearer ${token}` } : {},
    }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, body: text ? JSON.parse(text) : null }));
    });
    req.on('error', reject);
    req.end(body);
  });
  try {
    assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.equal((await request('GET', `${server.url}/healthz`)).status, 200);
    assert.equal((await request('GET', `${server.url}/v1/batches`)).status, 401);
    assert.equal((await request('GET', `${server.url}/v1/batches`, 'slc_wrong')).status, 401);
    assert.equal((await request('PUT', `${server.url}/v1/landing/events/a.csv`, tokens.reader, 'id,name\n1,a\n')).status, 403);
    const up = await request('PUT', `${server.url}/v1/landing/events/a.csv`, tokens.ingester, 'id,name\n1,a\n2,b\n');
    assert.equal(up.status, 201, JSON.stringify(up.body));
    assert.equal((await request('POST', `${server.url}/v1/pipelines/events/versions`, tokens.ingester, SPEC)).status, 403);
    assert.equal((await request('POST', `${server.url}/v1/pipelines/events/versions`, tokens.admin, SPEC)).status, 200);
    const listed = await request('GET', `${server.url}/v1/batches`, tokens.reader);
    assert.equal(listed.status, 200);
    assert.equal(listed.body.batches.length, 1);
    // Plain HTTP on the TLS port is refused, not served.
    const plain = await fetch(server.url.replace('https:', 'http:') + '/healthz').catch((e) => e);
    assert.ok(plain instanceof Error || plain.status >= 400);
  } finally {
    server.kill('SIGTERM');
    await server.exited;
  }
  const everything = server.output();
  assert.ok(everything.includes('reader-bot'), 'the access log names the token by its name');
  for (const [role, token] of Object.entries(tokens)) {
    assert.ok(!everything.includes(token), `the ${role} token appears in the server's output`);
    assert.ok(!everything.includes(token.slice(4, 20)), `part of the ${role} token appears`);
  }
});

test('a non-loopback address needs tokens; a busy port is a clear error', async () => {
  const p = project();
  const r = sluice(['-c', p.config, 'server', '--listen', '0.0.0.0:0']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /refusing to listen on 0\.0\.0\.0 without authentication/);
  const first = await startApiServer(p.config, ['--log-level', 'warn']);
  try {
    const port = new URL(first.url).port;
    const second = sluice(['-c', p.config, 'server', '--listen', `127.0.0.1:${port}`]);
    assert.notEqual(second.status, 0);
    assert.match(second.stderr, /cannot listen on 127\.0\.0\.1:\d+/);
  } finally {
    first.kill('SIGTERM');
    await first.exited;
  }
});

test('while draining after SIGTERM the API answers and readyz says not ready', async () => {
  const p = project();
  const server = await startApiServer(p.config, ['--log-level', 'warn']);
  // A batch big enough to be in flight when the signal comes.
  let csv = 'id,name\n';
  for (let i = 0; i < 1500000; i++) csv += `${i},name-${i}\n`;
  const up = await fetch(`${server.url}/v1/landing/events/slow.csv`, { method: 'PUT', body: csv });
  assert.equal(up.status, 201);
  await waitFor('processing to start', async () => {
    const b = await (await fetch(`${server.url}/v1/batches/1`)).json();
    return b.state === 'processing';
  });
  server.kill('SIGTERM');
  let sawDraining = false;
  const statuses = [];
  for (let i = 0; i < 200; i++) {
    const r = await fetch(`${server.url}/readyz`).catch(() => null);
    if (!r) break;  // the listener closed: the drain is over
    statuses.push(r.status);
    const j = await r.json();
    if (j.draining) {
      sawDraining = true;
      assert.equal(r.status, 503);
      const b = await fetch(`${server.url}/v1/batches/1`).catch(() => null);
      if (b) assert.equal(b.status, 200);
    }
    await new Promise((res) => setTimeout(res, 20));
  }
  const { code } = await server.exited;
  assert.equal(code, 0, server.output());
  assert.ok(sawDraining, `readyz statuses while draining: ${statuses}`);
  const after = JSON.parse(sluice(['-c', p.config, 'batches', '--json']).stdout);
  assert.equal(after[0].state, 'committed');
});
