#!/usr/bin/env bash
# make demo: a throwaway cluster, a million generated rows through pgcopy,
# the summary and a report of what the load did, then the cluster is gone.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export PATH="$PWD/$BUILD/bin:$PATH"
unset PGHOST PGPORT PGUSER PGDATABASE PGSERVICE

echo "== starting a throwaway cluster (pgsandbox start)"
eval "$(pgsandbox start)"
trap 'echo "== stopping the cluster"; pgsandbox -q stop "$PGHOST"' EXIT

psql -Xq -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE orders (
  id bigserial PRIMARY KEY,
  customer_id int NOT NULL,
  amount numeric(12,4) NOT NULL,
  status varchar(32) NOT NULL
);
SQL

# pggen does not exist yet: the server generates the rows, pgcopy loads them.
echo "== loading 1,000,000 rows: psql -c 'COPY (SELECT … generate_series …) TO STDOUT' | pgcopy orders"
psql -XAtq -v ON_ERROR_STOP=1 -c "COPY (
    SELECT i, i % 10000, (i % 500) + 0.99,
           CASE WHEN i % 3 = 0 THEN 'completed' ELSE 'pending' END
    FROM generate_series(1, 1000000) AS i) TO STDOUT" |
  pgcopy orders

# pgreport does not exist yet: the same facts straight from the views.
echo "== report"
psql -X -v ON_ERROR_STOP=1 <<'SQL'
\pset footer off
SELECT count(*) AS rows, sum(amount) AS total_amount,
       count(*) FILTER (WHERE status = 'completed') AS completed,
       count(*) FILTER (WHERE status = 'pending') AS pending
FROM orders;
SELECT relname AS "table", n_tup_ins AS inserted,
       pg_size_pretty(pg_table_size(relid)) AS table_size,
       pg_size_pretty(pg_indexes_size(relid)) AS index_size
FROM pg_stat_user_tables WHERE relname = 'orders';
SELECT wal_records, pg_size_pretty(wal_bytes) AS wal, wal_fpi AS full_page_images FROM pg_stat_wal;
SQL
