#!/usr/bin/env bash
# The HTTP API under load, on loopback (issue 13's targets):
#   1. GET /v1/tables/orders/rows?limit=100&where=... latency (wrk, bounded by
#      --duration) on an idle server, then while uploads of large batches are
#      ingested and committed by the same server;
#   2. full-table extracts (format=csv and format=parquet, limit=all) against
#      DuckDB's COPY ... TO of the same table's Parquet files.
#
#   bench/api_load.sh [--rows N] [--duration S] [--connections C] [--build-dir DIR]
#                     [--data-dir DIR] [--no-build]
#
# Needs wrk, curl and the tests' npm packages (scripts/install-deps.sh).
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
rows=10000000
duration=10
connections=8
build_dir="$REPO/build/release"
data_dir="${SLUICE_BENCH_DIR:-/tmp/sluice-bench}"
build=1
while (($#)); do
  case "$1" in
    --rows) rows="$2"; shift ;;
    --duration) duration="$2"; shift ;;
    --connections) connections="$2"; shift ;;
    --build-dir) build_dir="$2"; shift ;;
    --data-dir) data_dir="$2"; shift ;;
    --no-build) build=0 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "api_load.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if ((build)); then
  [[ -f "$build_dir/CMakeCache.txt" ]] || cmake -S "$REPO" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release >&2
  cmake --build "$build_dir" -j2 --target sluice sluice_datagen >&2
fi
sluice="$build_dir/src/sluice"
datagen="$build_dir/bench/sluice_datagen"
mkdir -p "$data_dir"
csv="$data_dir/orders-v1-$rows.csv"
[[ -f "$csv" ]] || "$datagen" --rows "$rows" --csv "$csv" >&2
# The ingestion that runs during the second measurement: other rows (another seed).
load_rows=$((rows / 10 > 100000 ? rows / 10 : 100000))
load_csv="$data_dir/orders-seed7-$load_rows.csv"
[[ -f "$load_csv" ]] || "$datagen" --rows "$load_rows" --seed 7 --csv "$load_csv" >&2

work="$(mktemp -d)"
server_pid=""
cleanup() {
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/pipelines"
cat > "$work/sluice.yaml" <<EOF
store_root: ./store
catalog: ./catalog.db
pipelines_dir: ./pipelines
workers: 1
poll_interval: 200ms
server: { rate: 0 }   # no per-client request rate: wrk is one client
EOF
cat > "$work/pipelines/orders.yaml" <<'EOF'
pipeline: orders
source: { pattern: "*.csv", format: csv }
schema:
  order_id: int64 not null
  quantity: int32
  unit_price: decimal(12,2)
  currency: string
  created_at: timestamp
  country: string
  note: string
outputs:
  - table: orders
EOF
echo "== ingesting $rows rows into table orders" >&2
"$sluice" -c "$work/sluice.yaml" ingest --pipeline orders "$csv" > /dev/null

"$sluice" -c "$work/sluice.yaml" server --listen 127.0.0.1:0 --log-level warn > "$work/server.out" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  url="$(sed -n 's/^sluice server: listening on //p' "$work/server.out")"
  [[ -n "$url" ]] && break
  sleep 0.1
done
[[ -n "$url" ]] || { cat "$work/server.out" >&2; exit 1; }

# Point lookups, ranges and a filter on a non-sorted column, limit 100.
cat > "$work/rows.lua" <<EOF
local n = 0
local rows = $rows
request = function()
  n = n + 1
  local id = (n * 7919) % rows + 1
  local kind = n % 3
  local where
  if kind == 0 then
    where = "order_id%20%3D%20" .. id
  elseif kind == 1 then
    where = "order_id%20%3E%3D%20" .. id .. "%20AND%20order_id%20%3C%20" .. (id + 5000)
  else
    where = "country%20%3D%20%27DE%27%20AND%20order_id%20%3E%20" .. id
  end
  return wrk.format("GET", "/v1/tables/orders/rows?limit=100&columns=order_id,country,unit_price&where=" .. where)
end
EOF

measure() {
  wrk -t2 -c"$connections" -d"${duration}s" --latency -s "$work/rows.lua" "$url" | tee "$work/wrk.out" >&2
  local p50 p99 rps errors
  p50="$(awk '$1=="50%"{print $2}' "$work/wrk.out")"
  p99="$(awk '$1=="99%"{print $2}' "$work/wrk.out")"
  rps="$(awk '/Requests\/sec/{print $2}' "$work/wrk.out")"
  errors="$(awk '/Non-2xx/{print $NF}' "$work/wrk.out")"
  echo "$1: p50 $p50, p99 $p99, $rps req/s, non-2xx ${errors:-0}"
}

echo "== rows requests, idle server" >&2
idle="$(measure idle)"

echo "== rows requests while batches are uploaded and ingested" >&2
committed_before="$(curl -s "$url/v1/batches?state=committed&limit=1000" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).batches.length))')"
(
  i=0
  end=$((SECONDS + duration))
  while ((SECONDS < end)); do
    # Distinct content each time (a comment-free extra row), so each is a new batch.
    { cat "$load_csv"; echo "$((rows + 1000000 + i)),1,1.00,EUR,2024-01-01T00:00:00Z,DE,upload $i"; } |
      curl -s -o /dev/null -w '%{http_code}\n' -T - "$url/v1/landing/orders/load-$i.csv" >> "$work/uploads"
    i=$((i + 1))
  done
) &
uploader=$!
busy="$(measure "during ingestion")"
wait "$uploader"
uploads="$(grep -c '^201$' "$work/uploads" || true)"
sleep 2
committed_after="$(curl -s "$url/v1/batches?state=committed&limit=1000" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).batches.length))')"

echo "== full-table extracts" >&2
extract() {
  local t0 t1
  t0="$(date +%s.%N)"
  curl -s -o "$work/extract.$1" "$url/v1/tables/orders/rows?format=$1&limit=all"
  t1="$(date +%s.%N)"
  echo "$t1 - $t0" | bc
}
csv_s="$(extract csv)"
pq_s="$(extract parquet)"
files="$(curl -s "$url/v1/tables/orders/files" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).files.map(f=>`'"'"'${f.path}'"'"'`).join(",")))')"
duck() {
  node "$REPO/bench/duckdb_task.mjs" 2 "$1" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).seconds.toFixed(3)))'
}
duck_csv="$(duck "COPY (SELECT * FROM read_parquet([$files])) TO '$work/duck.csv' (FORMAT csv, HEADER)")"
duck_pq="$(duck "COPY (SELECT * FROM read_parquet([$files])) TO '$work/duck.parquet' (FORMAT parquet)")"

echo
echo "table orders: $rows rows; $connections connections, ${duration}s per measurement"
echo "  $idle"
echo "  $busy"
echo "  uploads during the measurement: $uploads accepted ($load_rows rows each); committed batches $committed_before -> $committed_after"
printf '  extract csv:     sluice %.2f s (%s bytes), DuckDB COPY TO %.2f s: %.2fx\n' "$csv_s" "$(stat -c %s "$work/extract.csv")" "$duck_csv" "$(echo "$duck_csv / $csv_s" | bc -l)"
printf '  extract parquet: sluice %.2f s (%s bytes), DuckDB COPY TO %.2f s: %.2fx\n' "$pq_s" "$(stat -c %s "$work/extract.parquet")" "$duck_pq" "$(echo "$duck_pq / $pq_s" | bc -l)"
