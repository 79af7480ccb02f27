#!/usr/bin/env bash
# sluice vs DuckDB on the `orders` data set. Builds sluice (Release), installs
# DuckDB's node package if missing, generates the data (once) and prints the
# table. See bench/README.md.
#
#   bench/run.sh [--quick] [--rows N] [--threads 1,2] [--tasks LIST] [--reps N]
#                [--data-dir DIR] [--json] [--results FILE]
#                [--build-dir DIR] [--no-build] [--sluice BIN --datagen BIN]
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
cd "$REPO"

build_dir="$REPO/build/release"
build=1
quick=0
rows=""
sluice=""
datagen=""
pass=()
while (($#)); do
  case "$1" in
    --quick) quick=1 ;;
    --rows) rows="$2"; shift ;;
    --build-dir) build_dir="$(realpath -m "$2")"; shift ;;
    --no-build) build=0 ;;
    --sluice) sluice="$2"; build=0; shift ;;
    --datagen) datagen="$2"; build=0; shift ;;
    --threads|--tasks|--reps|--data-dir|--results) pass+=("$1" "$2"); shift ;;
    --json) pass+=("$1") ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [[ -z "$rows" ]]; then
  if ((quick)); then rows=200000; else rows=10000000; fi
fi

if ((build)); then
  if [[ ! -f "$build_dir/CMakeCache.txt" ]]; then
    if [[ "$build_dir" == "$REPO/build/release" ]]; then
      cmake --preset release >&2
    else
      cmake -S "$REPO" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release >&2
    fi
  fi
  cmake --build "$build_dir" -j2 --target sluice sluice_datagen >&2
fi
sluice="${sluice:-$build_dir/src/sluice}"
datagen="${datagen:-$build_dir/bench/sluice_datagen}"

if [[ ! -d "$REPO/tests/node_modules/@duckdb/node-api" ]]; then
  echo "run.sh: installing @duckdb/node-api into tests/node_modules" >&2
  (cd "$REPO/tests" && npm install --no-audit --no-fund --loglevel=error) >&2
fi

exec node "$REPO/bench/bench.mjs" --sluice "$sluice" --datagen "$datagen" --rows "$rows" "${pass[@]}"
