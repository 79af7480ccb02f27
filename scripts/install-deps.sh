#!/usr/bin/env bash
# Installs every Debian package the build, the tests and bench/ need (`time` gives
# bench/run.sh the peak RSS of each run). Idempotent; run as root.
# Also installs the npm packages the tests use (DuckDB as an independent Parquet reader,
# and the baseline of bench/run.sh) into tests/node_modules.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  clang clang-format clang-tidy libclang-rt-14-dev
  libyaml-cpp-dev libsimdjson-dev libfast-float-dev
  libzstd-dev liblz4-dev libsnappy-dev zlib1g-dev libdeflate-dev
  libsqlite3-dev sqlite3 libssl-dev libcurl4-openssl-dev
  libpq-dev postgresql postgresql-client python3-botocore awscli
  libspdlog-dev libfmt-dev libcli11-dev nlohmann-json3-dev libxxhash-dev libre2-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  zstd gzip bc time ccache pgloader
  libcpp-httplib-dev wrk prometheus chromium openssl curl
)

missing=()
# Node.js (with npm) may come from elsewhere on the machine; Debian's packages otherwise.
command -v node >/dev/null || PKGS+=(nodejs)
command -v npm >/dev/null || PKGS+=(npm)
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [[ "${SLUICE_SKIP_NPM:-0}" != "1" ]]; then
  if [[ ! -d tests/node_modules/@duckdb/node-api || ! -d tests/node_modules/s3rver ||
        ! -d tests/node_modules/playwright-core ]]; then
    echo "install-deps: installing the tests' npm packages (@duckdb/node-api, s3rver, playwright-core)"
    (cd tests && npm install --no-audit --no-fund --loglevel=error)
  fi
fi
