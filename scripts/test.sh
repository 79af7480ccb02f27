#!/usr/bin/env bash
# The second quick-start command: installs what the build and the tests need,
# builds with AddressSanitizer + UBSan (preset asan; pass `dev` or `release` for
# the others), and runs every test: unit, integration and end-to-end, with a PostgreSQL and an
# S3 test server started for them (scripts/test-services.sh). With the
# default preset it then checks the thread-safety annotations with clang and
# runs the catalog, queue and engine tests under ThreadSanitizer (preset tsan).
set -euo pipefail
cd "$(dirname "$0")/.."
PRESET="${1:-asan}"
scripts/install-deps.sh
cmake --preset "$PRESET"
cmake --build --preset "$PRESET" -j"$(nproc)"
# PostgreSQL and the S3 test server, for the shared-backend tests.
SERVICES="$(mktemp -d)"
trap 'scripts/test-services.sh stop "$SERVICES"; rm -rf "$SERVICES"' EXIT
scripts/test-services.sh start "$SERVICES"
set -a
# shellcheck disable=SC1091
. "$SERVICES/env"
set +a
ctest --preset "$PRESET"
if [[ "$PRESET" == asan ]]; then
  scripts/thread-safety.sh
  cmake --preset tsan
  cmake --build --preset tsan -j"$(nproc)"
  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}" ctest --preset tsan
fi
