#!/usr/bin/env node
// Compares the size of a Parquet file written by sluice with the same rows
// written by DuckDB (read back from the sluice file, so the data is equal)
// with the same codec and level, in total and per column.
//
//   node bench/micro/compare_parquet_size.mjs FILE.parquet CODEC [LEVEL]
//     CODEC: zstd | snappy | gzip | uncompressed
//
// Uses @duckdb/node-api from tests/node_modules (scripts/install-deps.sh).
// Also checks that DuckDB reads the same rows back from both files.
import { createRequire } from 'node:module';
import { statSync, unlinkSync } from 'node:fs';

const require = createRequire(new URL('../../tests/package.json', import.meta.url));
const { DuckDBInstance } = require('@duckdb/node-api');

const [file, codec = 'zstd', level] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: compare_parquet_size.mjs FILE.parquet CODEC [LEVEL]\n');
  process.exit(2);
}
const quote = (s) => `'${s.replaceAll("'", "''")}'`;
const duckFile = `${file}.duckdb.parquet`;

const instance = await DuckDBInstance.create(':memory:');
const c = await instance.connect();
const rows = async (sql) => (await c.runAndReadAll(sql)).getRows();

let options = `FORMAT parquet, COMPRESSION ${codec}`;
if (level !== undefined) options += `, COMPRESSION_LEVEL ${level}`;
await c.run(`SET threads = 1`);
await c.run(`COPY (SELECT * FROM read_parquet(${quote(file)})) TO ${quote(duckFile)} (${options})`);

const perColumn = async (f) =>
  new Map(
    (
      await rows(
        `SELECT path_in_schema, sum(total_compressed_size)::BIGINT, string_agg(DISTINCT encodings, ',')
         FROM parquet_metadata(${quote(f)}) GROUP BY 1`,
      )
    ).map((r) => [r[0], { bytes: Number(r[1]), encodings: r[2] }]),
  );
const ours = await perColumn(file);
const theirs = await perColumn(duckFile);
const groups = async (f) =>
  Number((await rows(`SELECT num_row_groups FROM parquet_file_metadata(${quote(f)})`))[0][0]);

const pad = (s, n) => String(s).padEnd(n);
const mb = (b) => (b / 1e6).toFixed(2);
console.log(`${pad('column', 14)}${pad('sluice MB', 12)}${pad('duckdb MB', 12)}${pad('ratio', 8)}encodings (sluice | duckdb)`);
for (const [name, o] of ours) {
  const t = theirs.get(name);
  console.log(
    `${pad(name, 14)}${pad(mb(o.bytes), 12)}${pad(mb(t.bytes), 12)}${pad((o.bytes / t.bytes).toFixed(3), 8)}${o.encodings} | ${t.encodings}`,
  );
}
const a = statSync(file).size;
const b = statSync(duckFile).size;
console.log(`${pad('file', 14)}${pad(mb(a), 12)}${pad(mb(b), 12)}${pad((a / b).toFixed(3), 8)}row groups ${await groups(file)} | ${await groups(duckFile)}`);

// Same rows from both files (an order-independent checksum of every column).
const digest = async (f) =>
  (await rows(`SELECT count(*), sum(hash(COLUMNS(*))) FROM read_parquet(${quote(f)})`))[0].map(String).join(',');
const [da, db] = [await digest(file), await digest(duckFile)];
console.log(da === db ? 'rows equal' : `ROWS DIFFER: ${da} vs ${db}`);
unlinkSync(duckFile);
process.exit(da === db ? 0 : 1);
