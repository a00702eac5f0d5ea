#!/usr/bin/env bash
# bench/routed.sh: routed loads into a table partitioned over three
# postgres_fdw servers, against the same rows into one local table with the
# same index, and against the COPY streamed through the parent.
#
#   PGCOPY=build/bin/pgcopy PGGEN=build/bin/pggen PGSANDBOX=build/bin/pgsandbox \
#     RUNS=3 bench/routed.sh ROWS DIR
#
# The coordinator is the server of the PG* variables (make bench's durable
# sandbox); the three shards are durable pgsandbox clusters of this script's
# own, always stopped. For range and hash (modulus 3) partitioning it loads
# ROWS orders rows (in DIR) once to warm up, then RUNS times, interleaved:
# pgcopy into the local table, pgcopy into the partitioned one (routed,
# and routed --jobs 2: two loaders, each with a connection to every server);
# then once with --no-route (through the parent: one remote INSERT per row).
# TRUNCATE + CHECKPOINT on every server before each, untimed. After each
# routed load it checks that every shard holds exactly its rows (hash: by
# the server's satisfies_hash_partition for every row) and the whole equals
# the input; then a kill -9 during a routed --resume-key load and a rerun.
# Prints results lines (bench/run.sh's format):
#   run routed_range|routed_hash local|routed|routed_jobs2|streamed RUN SECONDS ROWS - - -
#   meta routed_check PASS|FAIL what was checked
#   meta routed_kill PASS|FAIL what was checked
set -euo pipefail
ROWS=${1:?ROWS}
DIR=${2:?DIR}
PGCOPY=${PGCOPY:?PGCOPY}
PGGEN=${PGGEN:?PGGEN}
PGSANDBOX=${PGSANDBOX:?PGSANDBOX}
RUNS=${RUNS:-3}
export PGOPTIONS="-c client_min_messages=warning"
sql() { psql -XAtq -v ON_ERROR_STOP=1 -c "$1"; }
say() { echo "routed: $*" >&2; }

SHARDS=$(mktemp -d /tmp/pgrb.XXXXXX) # short: a socket path is limited to 107 bytes
chmod 755 "$SHARDS"
cleanup() {
	local k
	for k in 1 2 3; do "$PGSANDBOX" -q stop "$SHARDS/s$k" >/dev/null 2>&1 || true; done
	rm -rf "$SHARDS"
}
trap cleanup EXIT
for k in 1 2 3; do "$PGSANDBOX" -q start --durable "$SHARDS/s$k" >"$SHARDS/env$k"; done
on_shard() { (source "$SHARDS/env$1"; sql "$2"); }
every_server() { sql "$1" >/dev/null; for k in 1 2 3; do on_shard "$k" "$1" >/dev/null; done; }

ddl="(id bigint NOT NULL, customer_id int, amount numeric(12,4), status text)"
# tables STRATEGY: orders_local (a primary key) and orders_all over the shards.
tables() {
	sql "DROP TABLE IF EXISTS orders_all, orders_local; DROP EXTENSION IF EXISTS postgres_fdw CASCADE;
	     CREATE EXTENSION postgres_fdw; CREATE TABLE orders_local $ddl; ALTER TABLE orders_local ADD PRIMARY KEY (id);
	     CREATE TABLE orders_all $ddl PARTITION BY $(tr a-z A-Z <<<"$1") (id)" >/dev/null
	local k bound third=$(( (ROWS + 2) / 3 ))
	for k in 1 2 3; do
		on_shard "$k" "DROP TABLE IF EXISTS orders_part; DROP SCHEMA IF EXISTS pgpipe CASCADE;
		               CREATE TABLE orders_part $ddl; ALTER TABLE orders_part ADD PRIMARY KEY (id)" >/dev/null
		sql "CREATE SERVER shard$k FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '$(source "$SHARDS/env$k"; echo "$PGHOST")',
		       port '$(source "$SHARDS/env$k"; echo "$PGPORT")', dbname 'postgres');
		     CREATE USER MAPPING FOR CURRENT_USER SERVER shard$k OPTIONS (user 'postgres')"
		if [[ $1 == hash ]]; then bound="WITH (modulus 3, remainder $((k - 1)))"
		else bound="FROM ($(( (k - 1) * third + 1 ))) TO ($(( k * third + 1 )))"; fi
		sql "CREATE FOREIGN TABLE orders_p$k PARTITION OF orders_all FOR VALUES $bound SERVER shard$k
		       OPTIONS (table_name 'orders_part')"
	done
}

# timed WORKLOAD METHOD RUN TABLE [PGCOPY OPTION]...: one load, after TRUNCATE and CHECKPOINT everywhere.
timed() {
	local workload=$1 method=$2 run=$3 table=$4 t0 t1
	shift 4
	sql "TRUNCATE $table"
	every_server CHECKPOINT
	t0=$(date +%s.%N)
	"$PGCOPY" -q "$@" "$table" "$DIR/routed.tsv"
	t1=$(date +%s.%N)
	printf 'run\t%s\t%s\t%s\t%s\t%s\t-\t-\t-\n' "$workload" "$method" "$run" "$(echo "$t1 - $t0" | bc)" "$ROWS"
}

failures=()
# check_shards STRATEGY: every shard holds exactly its rows; the whole equals the input.
check_shards() {
	local k n total=0 third=$(( (ROWS + 2) / 3 ))
	for k in 1 2 3; do
		if [[ $1 == hash ]]; then
			n=$(sql "SELECT count(*) FILTER (WHERE NOT satisfies_hash_partition('orders_all'::regclass, 3, $((k - 1)), id))
			         FROM (SELECT id FROM orders_p$k OFFSET 0) s")
		else
			n=$(on_shard "$k" "SELECT count(*) FILTER (WHERE id < $(( (k - 1) * third + 1 )) OR id >= $(( k * third + 1 ))) FROM orders_part")
		fi
		[[ $n == 0 ]] || failures+=("$1: $n rows on shard $k belong elsewhere")
		total=$(( total + $(on_shard "$k" "SELECT count(*) FROM orders_part") ))
	done
	[[ $total == "$ROWS" ]] || failures+=("$1: $total rows on the shards, $ROWS in the input")
	local got want
	got=$(psql -XAtq -c "COPY (SELECT * FROM orders_all ORDER BY id) TO STDOUT" | md5sum)
	sql "TRUNCATE orders_local"
	"$PGCOPY" -q orders_local "$DIR/routed.tsv"
	want=$(psql -XAtq -c "COPY (SELECT * FROM orders_local ORDER BY id) TO STDOUT" | md5sum)
	[[ $got == "$want" ]] || failures+=("$1: the partitioned table differs from the input")
}

"$PGGEN" -q --preset orders -n "$ROWS" >"$DIR/routed.tsv"
for strategy in range hash; do
	say "$strategy: $ROWS rows, 3 shards, $RUNS runs (at ${SECONDS} s)"
	tables "$strategy"
	for run in $(seq 0 "$RUNS"); do
		timed "routed_$strategy" local "$run" orders_local
		timed "routed_$strategy" routed "$run" orders_all --route
		timed "routed_$strategy" routed_jobs2 "$run" orders_all --route --jobs 2
	done
	check_shards "$strategy"
	say "$strategy: once through the parent (one remote INSERT per row; at ${SECONDS} s)"
	timed "routed_$strategy" streamed 1 orders_all --no-route
done
check="range and hash, $ROWS rows: each shard holds exactly its rows (hash: by satisfies_hash_partition), the whole equals the input"
if ((${#failures[@]})); then
	printf 'meta\trouted_check\tFAIL %s\n' "${failures[*]}"
else
	printf 'meta\trouted_check\tPASS %s\n' "$check"
fi

# kill -9 during a routed --resume-key load (hash), then the same command.
say "kill -9 during a routed --resume-key load (at ${SECONDS} s)"
failures=()
sql "TRUNCATE orders_all"
"$PGCOPY" -q --batch-rows 20k --resume-key bench-routed orders_all "$DIR/routed.tsv" &
loader=$!
for _ in $(seq 1 500); do
	[[ $(on_shard 2 "SELECT count(*) FROM orders_part") != 0 ]] && break
	sleep 0.01
done
sleep 0.2
kill -9 "$loader" 2>/dev/null || true
wait "$loader" 2>/dev/null || true
before=$(sql "SELECT count(*) FROM orders_all")
"$PGCOPY" -q --batch-rows 20k --resume-key bench-routed orders_all "$DIR/routed.tsv"
check_shards hash
what="$ROWS rows, killed with $before committed, then the same command: every shard holds exactly its part, no duplicates"
if ((${#failures[@]})) || [[ $before -ge $ROWS ]]; then
	printf 'meta\trouted_kill\tFAIL %s %s\n' "$what" "${failures[*]:-the load finished before the kill}"
else
	printf 'meta\trouted_kill\tPASS %s\n' "$what"
fi
