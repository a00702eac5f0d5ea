#!/usr/bin/env bash
# make demo: a throwaway cluster, a million generated rows through pgcopy,
# the summary and a report of what the load did, then the cluster is gone.
# PG=17 (make demo PG=17) runs it on that major (pgsandbox --pg).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export PATH="$PWD/$BUILD/bin:$PATH"
unset PGHOST PGPORT PGUSER PGDATABASE PGSERVICE

pg=()
[ -n "${PG:-}" ] && pg=(--pg "$PG")
echo "== starting a throwaway cluster (pgsandbox start ${pg[*]})"
eval "$(pgsandbox start "${pg[@]}")"
trap 'echo "== stopping the cluster"; pgsandbox -q stop "$PGHOST"' EXIT

echo "== creating the table: pggen --ddl --preset orders | psql"
pggen --ddl --preset orders | psql -Xq -v ON_ERROR_STOP=1

echo "== loading 1,000,000 rows under pgreport: pgreport -- sh -c 'pggen --preset orders -n 1M | pgcopy orders'"
pgreport -- sh -c 'pggen --preset orders -n 1M | pgcopy orders'

echo "== what the table holds"
psql -X -v ON_ERROR_STOP=1 <<'SQL'
\pset footer off
SELECT count(*) AS rows, sum(amount) AS total_amount,
       count(*) FILTER (WHERE status = 'completed') AS completed,
       count(*) FILTER (WHERE status = 'pending') AS pending
FROM orders;
SQL
