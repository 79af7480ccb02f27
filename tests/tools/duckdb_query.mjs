#!/usr/bin/env node
// Runs SQL statements in an in-memory DuckDB and prints the result of the last
// one as JSON on stdout. A shared test tool: DuckDB is the independent reader
// that checks the Parquet files sluice writes.
//
//   node tests/tools/duckdb_query.mjs "<SQL>" ["<SQL>" ...]
//
// Output (one line):
//   {"columns":[{"name":"a","type":"BIGINT"},...],"rows":[[v, ...], ...]}
// `type` is DuckDB's type name (e.g. "INTEGER", "DECIMAL(18,2)",
// "TIMESTAMP WITH TIME ZONE"). Values are converted in a stable way:
//   NULL                     -> null
//   BOOLEAN                  -> true / false
//   TINYINT..INTEGER, FLOAT, DOUBLE (finite) -> JSON number
//   NaN, Infinity, -Infinity -> the strings "NaN", "Infinity", "-Infinity"
//   BIGINT, HUGEINT, UBIGINT -> decimal string, e.g. "-9223372036854775808"
//   VARCHAR                  -> string
//   any other DuckDB value   -> its toString(): DECIMAL "-12.50" (all scale
//     digits), DATE "1969-12-31", TIMESTAMP "2020-01-02 03:04:05.123456",
//     TIMESTAMP WITH TIME ZONE "2020-01-02 03:04:05.123456+00" (always UTC),
//     BLOB/LIST/STRUCT as DuckDB prints them.
// Exact numeric checks should cast in SQL (e.g. epoch_us(ts), d::VARCHAR).
// The session runs with TimeZone=UTC. On error the message goes to stderr and
// the exit code is 1; with no SQL argument it is 2.
import { DuckDBInstance, DuckDBTimestampTZValue } from '@duckdb/node-api';

function convert(v) {
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case 'boolean':
    case 'string':
      return v;
    case 'number':
      if (Number.isNaN(v)) return 'NaN';
      if (v === Infinity) return 'Infinity';
      if (v === -Infinity) return '-Infinity';
      return v;
    case 'bigint':
      return v.toString();
    default:
      return v.toString();
  }
}

async function main() {
  const statements = process.argv.slice(2);
  if (statements.length === 0) {
    process.stderr.write('usage: node duckdb_query.mjs "<SQL>" ["<SQL>" ...]\n');
    return 2;
  }
  DuckDBTimestampTZValue.timezoneOffsetInMinutes = 0;
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  await connection.run("SET TimeZone = 'UTC'");
  let reader = null;
  for (const sql of statements) reader = await connection.runAndReadAll(sql);
  const names = reader.columnNames();
  const types = reader.columnTypes();
  const columns = names.map((name, i) => ({ name, type: types[i].toString() }));
  const rows = reader.getRows().map((row) => row.map(convert));
  process.stdout.write(JSON.stringify({ columns, rows }) + '\n');
  return 0;
}

// Set the exit code and let node end by itself: process.exit() right after a
// large write to a pipe would cut the output short.
main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`duckdb_query: ${err && err.message ? err.message : err}\n`);
    process.exitCode = 1;
  },
);
