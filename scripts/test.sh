#!/usr/bin/env bash
# The second quick-start command: installs what the build and the tests need,
# builds (preset dev by default; pass `asan` or `release`), and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
PRESET="${1:-dev}"
scripts/install-deps.sh
cmake --preset "$PRESET"
cmake --build --preset "$PRESET" -j"$(nproc)"
ctest --preset "$PRESET"
