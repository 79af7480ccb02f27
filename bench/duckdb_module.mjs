// Loads @duckdb/node-api from tests/node_modules (installed by
// scripts/install-deps.sh or bench/run.sh), so the harness and the tests
// share one copy.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export async function loadDuckdb() {
  const require = createRequire(path.join(REPO, 'tests', 'package.json'));
  let entry;
  try {
    entry = require.resolve('@duckdb/node-api');
  } catch {
    throw new Error('@duckdb/node-api is not installed: run `(cd tests && npm install)` or bench/run.sh');
  }
  return import(pathToFileURL(entry).href);
}
