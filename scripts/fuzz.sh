#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan) and runs each one for
# FUZZ_SECONDS seconds (default 20), starting from the seeds in
# tests/fuzz/corpus/<target>/. New corpus entries go to a scratch directory so
# the checked-in seeds stay small; a crash leaves its input under the build
# directory (crash-*) and makes the script fail.
#
#   scripts/fuzz.sh                     # all targets, 20 s each
#   FUZZ_SECONDS=300 scripts/fuzz.sh csv_decoder_fuzz
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${FUZZ_BUILD_DIR:-$root/build/fuzz}"
seconds="${FUZZ_SECONDS:-20}"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(csv_decoder_fuzz ndjson_decoder_fuzz infer_fuzz infer_roundtrip_fuzz parquet_decoder_fuzz
    expr_fuzz pg_copy_decoder_fuzz)
fi

CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_BUILD_FUZZERS=ON -DSLUICE_BUILD_TESTS=ON >/dev/null
cmake --build "$build" --target "${targets[@]}"

status=0
for t in "${targets[@]}"; do
  scratch="$(mktemp -d)"
  echo "== $t for ${seconds}s"
  if ! "$build/tests/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$build/$t-" "$scratch" "$root/tests/fuzz/corpus/$t"; then
    echo "!! $t failed; reproducer: $build/$t-crash-* (or leak-/timeout-/oom-)" >&2
    status=1
  fi
  rm -rf "$scratch"
done
exit $status
