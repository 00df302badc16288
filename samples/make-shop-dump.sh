#!/usr/bin/env bash
# Regenerates samples/shop.dump (pg_dump -Fc --no-owner --no-acl) from samples/shop.sql, using a
# throwaway Postgres cluster in a temp folder that is stopped and deleted on exit, whatever happens.
# Postgres binaries: $DEVDB_PG_BIN, else /usr/lib/postgresql/15/bin, else PATH.
# As root, the server runs as $DEVDB_SERVER_USER (default postgres): Postgres refuses to run as root.
set -euo pipefail

samples="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [[ -n "${DEVDB_PG_BIN:-}" ]]; then
    pg_bin="$DEVDB_PG_BIN"
elif [[ -x /usr/lib/postgresql/15/bin/initdb ]]; then
    pg_bin=/usr/lib/postgresql/15/bin
elif command -v initdb >/dev/null 2>&1; then
    pg_bin="$(dirname "$(command -v initdb)")"
else
    echo "make-shop-dump: initdb not found; install PostgreSQL or set DEVDB_PG_BIN to its bin folder." >&2
    exit 1
fi

as_server=()
superuser="$(id -un)"
if [[ "$(id -u)" == 0 ]]; then
    superuser="${DEVDB_SERVER_USER:-postgres}"
    as_server=(runuser -u "$superuser" --)
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/devdb-shop.XXXXXX")"
cleanup() {
    if [[ -f "$work/data/postmaster.pid" ]]; then
        "${as_server[@]}" "$pg_bin/pg_ctl" stop -D "$work/data" -m immediate -w >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
if [[ ${#as_server[@]} -gt 0 ]]; then chown "$superuser" "$work"; fi

"${as_server[@]}" "$pg_bin/initdb" -D "$work/data" -U "$superuser" --auth=trust --encoding=UTF8 --locale=C >/dev/null
# Unix socket only, in the private temp folder: no TCP port to collide with anything.
"${as_server[@]}" "$pg_bin/pg_ctl" start -D "$work/data" -w -l "$work/server.log" \
    -o "-c listen_addresses='' -k $work -c fsync=off" >/dev/null

psql=("$pg_bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$work" -U "$superuser")
"${psql[@]}" -d postgres -c 'CREATE DATABASE app'
"${psql[@]}" -d app -f "$samples/shop.sql" >/dev/null
"$pg_bin/pg_dump" -h "$work" -U "$superuser" -d app -Fc --no-owner --no-acl -f "$work/shop.dump"
mv "$work/shop.dump" "$samples/shop.dump"
echo "make-shop-dump: wrote $samples/shop.dump ($(wc -c <"$samples/shop.dump") bytes)"
