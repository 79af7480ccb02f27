#!/usr/bin/env bash
# The first quick-start command: builds sluice (release), creates a project from
# examples/quickstart in build/demo, lands the bundled sample batches, runs the
# embedded server until everything is processed, and prints a summary.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

SLUICE_SKIP_NPM=1 scripts/install-deps.sh >/dev/null
echo "== building sluice (release; log in build/demo-build.log)"
mkdir -p build
if ! { cmake --preset release && cmake --build --preset release --target sluice -j"$(nproc)"; } \
    >build/demo-build.log 2>&1; then
  cat build/demo-build.log
  exit 1
fi
SLUICE="$ROOT/build/release/src/sluice"

DEMO="${SLUICE_DEMO_DIR:-$ROOT/build/demo}"
rm -rf "$DEMO"
mkdir -p "$DEMO"
cp -r examples/quickstart/sluice.yaml examples/quickstart/pipelines "$DEMO/"
# Land the samples the way a partner would: write under a temporary name, then rename.
for dir in examples/quickstart/landing/*/; do
  p=$(basename "$dir")
  mkdir -p "$DEMO/store/landing/$p"
  for f in "$dir"*; do
    cp "$f" "$DEMO/store/landing/$p/.$(basename "$f").tmp"
    mv "$DEMO/store/landing/$p/.$(basename "$f").tmp" "$DEMO/store/landing/$p/$(basename "$f")"
  done
done

cd "$DEMO"
echo "== sluice validate"
"$SLUICE" validate
echo
echo "== sluice test (the pipelines' unit tests, pipelines/*.test.yaml)"
"$SLUICE" test
echo
echo "== sluice server --exit-when-idle (processes every landed batch, then exits)"
start=$(date +%s.%N)
"$SLUICE" server --exit-when-idle --log-level warn
end=$(date +%s.%N)
echo
echo "== sluice status"
"$SLUICE" status
echo
echo "== sluice batches"
"$SLUICE" batches
echo
echo "== quarantined records (first 3)"
find store/quarantine -name '*.ndjson' | sort | head -n 2 | while read -r q; do
  echo "$q:"; head -n 3 "$q"
done
echo
echo "== SQLite sink (store/warehouse.db)"
sqlite3 store/warehouse.db "SELECT currency, count(*) AS orders, sum(quantity) AS items FROM orders GROUP BY currency ORDER BY currency;"
echo
echo "== lake table daily_revenue (one aggregate per batch; lake/daily_revenue/*.parquet)"
"$SLUICE" tables | grep -A5 '^daily_revenue' || true
echo
printf 'demo finished in %.2f s (processing); project in %s\n' "$(echo "$end - $start" | bc)" "$DEMO"
