#!/usr/bin/env bash
# The second quick-start command: installs what the build and the tests need,
# builds with AddressSanitizer + UBSan (preset asan; pass `dev` or `release` for
# the others), and runs every test: unit, integration and end-to-end.
set -euo pipefail
cd "$(dirname "$0")/.."
PRESET="${1:-asan}"
scripts/install-deps.sh
cmake --preset "$PRESET"
cmake --build --preset "$PRESET" -j"$(nproc)"
ctest --preset "$PRESET"
