// Runs one SQL statement in a fresh in-memory DuckDB with `SET threads=N` and
// prints {"seconds", "rows"} as JSON: seconds is the statement alone (no node
// start-up, no library load), rows what DuckDB reports for a COPY.
//
//   node bench/duckdb_task.mjs THREADS SQL
//
// Run as a child process by bench.mjs so that its peak RSS is measured apart.
import { loadDuckdb } from './duckdb_module.mjs';

const [threads, sql] = process.argv.slice(2);
if (!threads || !sql) {
  console.error('usage: node duckdb_task.mjs THREADS SQL');
  process.exit(2);
}
const { DuckDBInstance } = await loadDuckdb();
const conn = await (await DuckDBInstance.create(':memory:')).connect();
await conn.run(`SET threads=${Number(threads)}`);
const t0 = process.hrtime.bigint();
const reader = await conn.runAndReadAll(sql);
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const rows = reader.getRowObjectsJS()[0];
console.log(JSON.stringify({ seconds, rows: rows && rows.Count !== undefined ? Number(rows.Count) : null }));
