#!/usr/bin/env bash
# Starts (or stops) the servers the shared-backend tests talk to, on loopback,
# on free ports, in a state directory:
#   - PostgreSQL 15 (initdb + postgres as the unprivileged `postgres` user when
#     run as root), database `sluice_test`, trust authentication;
#   - s3rver (npm, tests/node_modules) with the bucket `sluice-test`.
#
#   scripts/test-services.sh start DIR   # prints nothing; writes DIR/env
#   scripts/test-services.sh stop DIR
#
# DIR/env holds shell assignments the tests read from the environment:
#   SLUICE_TEST_PG_DSN      libpq URI of the test database (a superuser)
#   SLUICE_TEST_S3_ENDPOINT http://127.0.0.1:PORT
#   SLUICE_TEST_S3_BUCKET   sluice-test
# scripts/test.sh sources it around ctest; a developer runs
#   scripts/test-services.sh start /tmp/sv && set -a && . /tmp/sv/env && set +a
set -euo pipefail
cd "$(dirname "$0")/.."
cmd="${1:?usage: test-services.sh start|stop DIR}"
dir="${2:?usage: test-services.sh start|stop DIR}"
PGBIN=/usr/lib/postgresql/15/bin

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
as_pg() {
  if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
  start)
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    [[ $(id -u) == 0 ]] && chown postgres:postgres "$dir"
    pg_port=$(free_port)
    as_pg "$PGBIN/initdb" -D "$dir/pg" -U postgres -A trust -E UTF8 --no-sync >"$dir/initdb.log"
    as_pg "$PGBIN/pg_ctl" -D "$dir/pg" -l "$dir/pg.log" -w -t 30 \
      -o "-p $pg_port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" \
      start >/dev/null
    as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres sluice_test
    s3_port=$(free_port)
    mkdir -p "$dir/s3"
    # s3rver's ListObjectsV2 continuation tokens are DES-encrypted, which the
    # OpenSSL 3 of Node 18+ only offers in its legacy provider (without it a
    # paged listing answers 500 InternalError).
    node --openssl-legacy-provider tests/node_modules/s3rver/bin/s3rver.js -d "$dir/s3" -a 127.0.0.1 -p "$s3_port" \
      --configure-bucket sluice-test --silent >"$dir/s3rver.log" 2>&1 &
    echo $! >"$dir/s3rver.pid"
    for _ in $(seq 100); do
      curl -s -o /dev/null "http://127.0.0.1:$s3_port/" && break
      sleep 0.1
    done
    curl -s -o /dev/null "http://127.0.0.1:$s3_port/" || {
      echo "test-services: s3rver did not start:" >&2
      cat "$dir/s3rver.log" >&2
      exit 1
    }
    cat >"$dir/env" <<ENV
SLUICE_TEST_PG_DSN=postgresql://postgres@127.0.0.1:$pg_port/sluice_test
SLUICE_TEST_S3_ENDPOINT=http://127.0.0.1:$s3_port
SLUICE_TEST_S3_BUCKET=sluice-test
ENV
    ;;
  stop)
    [[ -f "$dir/s3rver.pid" ]] && kill "$(cat "$dir/s3rver.pid")" 2>/dev/null || true
    [[ -d "$dir/pg" ]] && as_pg "$PGBIN/pg_ctl" -D "$dir/pg" -m immediate stop >/dev/null 2>&1 || true
    ;;
  *)
    echo "usage: test-services.sh start|stop DIR" >&2
    exit 2
    ;;
esac
