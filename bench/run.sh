#!/usr/bin/env bash
# bench/run.sh: the `make bench` benchmark.
#
#   BUILD=build QUICK=1 bench/run.sh     (what `make bench QUICK=1` runs)
#
# Starts a throwaway cluster with pgsandbox, has the server write the input
# files (orders, posts and users, as COPY text, CSV, binary and zstd'd text),
# then for every dataset and load method does one warm-up load and three timed
# loads (TRUNCATE + CHECKPOINT before each, untimed) and reports the median:
#
#   server COPY FROM 'file'   psql \copy from stdin   pgcopy text | csv | binary | zstd
#   pggen | pgcopy   pgrec | pgcopy (once pgrec is built)   pgcopy --batch-rows 100k
#   pginsert values | pipeline | txn | row   (txn and row on the first rows only)
#
# Then the experiments, in the same way: a batch-size sweep (pginsert values
# --batch and pgcopy --batch-rows), index and constraint overhead (a secondary
# index, --defer-indexes, --defer-constraints), TOAST compression (posts) and
# parallel loads (users, pgcopy --jobs 1, 2, 3).
#
# The results are printed and written to docs/benchmarks.md.  In full mode it
# also loads 10,000,000 orders rows through a pipe to show that pgcopy's
# memory stays flat.  QUICK=1 uses smaller datasets, fewer sweep points and
# skips the 10M run.
#
# The sandbox is stopped and the data files are removed on every exit path.
# Data files live in bench/data/ (git-ignored) when the server's OS user can
# read them there, else in a mktemp directory; either way they are removed.
set -euo pipefail
export LC_ALL=C            # '.' as the radix in EPOCHREALTIME, awk and printf

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
QUICK=${QUICK:-}
PGCOPY=$BUILD/bin/pgcopy
PGSANDBOX=$BUILD/bin/pgsandbox
PGGEN=$BUILD/bin/pggen
PGINSERT=$BUILD/bin/pginsert
PGREC=$BUILD/bin/pgrec
GNU_TIME=/usr/bin/time     # GNU time: -f %M gives psql's peak RSS in KiB
OUT=$ROOT/docs/benchmarks.md
RUNS=3
EXP_RUNS=$RUNS             # timed runs of the experiments (after a warm-up)
ROLES_N=10                 # users.role_id draws 1..10

# SLOW_*: rows for pginsert txn and row, which are too slow for the whole
# dataset; their rates are measured on the first SLOW_* rows and reported as
# such (never as a made-up time for the whole dataset).
if [[ $QUICK == 1 ]]; then
	MODE=quick ORDERS_N=200000 POSTS_N=1000 USERS_N=20000 BIG_N=0 PAR_N=100000
	SLOW_ORDERS_N=10000 SLOW_POSTS_N=1000 SLOW_USERS_N=5000
	SWEEP=(100 10000 100000)
else
	MODE=full ORDERS_N=1000000 POSTS_N=10000 USERS_N=100000 BIG_N=10000000 PAR_N=1000000
	SLOW_ORDERS_N=100000 SLOW_POSTS_N=10000 SLOW_USERS_N=10000
	SWEEP=(100 1000 10000 100000)
fi

die() { echo "bench: $*" >&2; exit 1; }
say() { echo "bench: $*" >&2; }

for p in "$PGCOPY" "$PGSANDBOX" "$PGGEN" "$PGINSERT"; do
	[[ -x $p ]] || die "$p not found; run make first (or set BUILD)"
done
[[ -x $GNU_TIME ]] || die "$GNU_TIME (GNU time) not found"
for c in psql zstd awk sort head; do
	command -v "$c" >/dev/null || die "$c not found in PATH"
done
# pgrec may not be built yet: then its rows are left out (and the report says
# so) until "$BUILD/bin/pgrec" exists.
HAVE_PGREC=""
[[ -x $PGREC ]] && HAVE_PGREC=1

PSQL=(psql -X -q -v ON_ERROR_STOP=1)

# ---------------------------------------------------------------- cleanup
SANDBOX=""     # PGHOST of the cluster this script started
DATA=""        # directory holding this run's data files
WORK=""        # scratch directory for stats files and results
TMPOUT=""      # docs/benchmarks.md being written
cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM HUP
	if [[ -n $SANDBOX ]]; then
		"$PGSANDBOX" stop "$SANDBOX" >/dev/null 2>&1 ||
			echo "bench: warning: could not stop the sandbox in $SANDBOX" >&2
	fi
	[[ -n $DATA ]] && rm -rf -- "$DATA"
	[[ -n $WORK ]] && rm -rf -- "$WORK"
	[[ -n $TMPOUT ]] && rm -f -- "$TMPOUT"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pgpipe-bench.XXXXXX")

# ---------------------------------------------------------------- sandbox
say "starting a sandbox cluster"
env_lines=$("$PGSANDBOX" -q start) || die "pgsandbox start failed"
eval "$env_lines"
SANDBOX=${PGHOST:?pgsandbox did not set PGHOST}
export PGHOST PGPORT PGUSER PGDATABASE

# SQL string literal ('' doubles a quote).
lit() { local s=${1//\'/\'\'}; printf "'%s'" "$s"; }

# Can the server (running as the postgres OS user when we are root) read a
# file in DIR?  Probe with a real server-side COPY.
server_can_read() {
	local dir=$1 f=$1/probe.txt
	printf '1\n' >"$f" && chmod 644 "$f" || return 1
	"${PSQL[@]}" -c "CREATE TEMP TABLE probe (x int); COPY probe FROM $(lit "$f")" \
		>/dev/null 2>&1
	local rc=$?
	rm -f "$f"
	return $rc
}

mkdir -p "$ROOT/bench/data"
chmod 755 "$ROOT/bench/data"
DATA=$(mktemp -d "$ROOT/bench/data/run.XXXXXX")
chmod 755 "$DATA"
if ! server_can_read "$DATA"; then
	rm -rf -- "$DATA"
	DATA=$(mktemp -d "${TMPDIR:-/tmp}/pgpipe-bench-data.XXXXXX")
	chmod 755 "$DATA"
	server_can_read "$DATA" ||
		die "the server cannot read files in bench/data/ nor in $DATA"
fi
say "data files in $DATA"

# ---------------------------------------------------------------- datasets
"${PSQL[@]}" <<'SQL'
CREATE TABLE orders (
	id bigserial PRIMARY KEY,
	customer_id int NOT NULL,
	amount numeric(12,4) NOT NULL,
	status varchar(32) NOT NULL
);
CREATE TABLE posts (
	id serial PRIMARY KEY,
	title text,
	body text,
	payload text
);
SQL

# users and roles exactly as pggen's presets define them: primary keys, a
# unique username, an index on email and a foreign key to roles.  Ten roles
# are loaded once; only users is ever emptied.
{
	"$PGGEN" --ddl --preset roles
	"$PGGEN" --ddl --preset users
} | "${PSQL[@]}"
"$PGGEN" -q --preset roles -n "$ROLES_N" | "$PGCOPY" -q roles

# The SELECT whose rows make up each dataset, with exactly the column types
# of the table, so that the binary files load as they are.
orders_select() {
	echo "SELECT i::bigint, (i % 10000)::int, ((i % 500) + 0.99)::numeric(12,4),
	        (CASE WHEN i % 3 = 0 THEN 'completed' ELSE 'pending' END)::varchar(32)
	   FROM generate_series(1, $1) AS i"
}
posts_select() {
	echo "SELECT i::int, repeat('title', 1764), repeat('body', 1764),
	        repeat('dummy data', 1764)
	   FROM generate_series(1, $1) AS i"
}
# users has random-looking columns (pggen's preset): the table is filled once
# by pggen | pgcopy and the server writes the files from it.
users_select() {
	echo "SELECT id, username, email, created_at, role_id FROM users ORDER BY id"
}

DATASETS=(orders posts users)
declare -A NROWS=([orders]=$ORDERS_N [posts]=$POSTS_N [users]=$USERS_N)
declare -A SLOW_N=([orders]=$SLOW_ORDERS_N [posts]=$SLOW_POSTS_N [users]=$SLOW_USERS_N)
declare -A TEXT_BYTES CSV_BYTES BIN_BYTES ZST_BYTES SLOW_BYTES

for ds in "${DATASETS[@]}"; do
	if [[ $ds == users ]]; then
		"$PGGEN" -q --preset users -n "${NROWS[$ds]}" | "$PGCOPY" -q users
	fi
	q=$("${ds}_select" "${NROWS[$ds]}")
	say "writing $ds: ${NROWS[$ds]} rows (text, csv, binary, zstd text) (at ${SECONDS} s)"
	psql -XAtq -v ON_ERROR_STOP=1 -c "COPY ($q) TO STDOUT (FORMAT text)" >"$DATA/$ds.txt"
	psql -XAtq -v ON_ERROR_STOP=1 -c "COPY ($q) TO STDOUT (FORMAT csv)" >"$DATA/$ds.csv"
	psql -XAtq -v ON_ERROR_STOP=1 -c "COPY ($q) TO STDOUT (FORMAT binary)" >"$DATA/$ds.bin"
	zstd -q -3 -c "$DATA/$ds.txt" >"$DATA/$ds.txt.zst"
	# The first SLOW_N rows, for pginsert txn and row (text rows are lines).
	if ((SLOW_N[$ds] < NROWS[$ds])); then
		head -n "${SLOW_N[$ds]}" "$DATA/$ds.txt" >"$DATA/$ds.slow.txt"
	else
		SLOW_N[$ds]=${NROWS[$ds]}
		cp "$DATA/$ds.txt" "$DATA/$ds.slow.txt"
	fi
	# JSON lines for pgrec, one object per row keyed by column name, written
	# by the server from the table (only when pgrec is there to read them).
	if [[ -n $HAVE_PGREC ]]; then
		[[ $ds == users ]] || "${PSQL[@]}" -c "COPY $ds FROM $(lit "$DATA/$ds.txt")"
		psql -XAtq -v ON_ERROR_STOP=1 -c "SELECT row_to_json(t) FROM $ds AS t ORDER BY id" \
			>"$DATA/$ds.jsonl"
		"${PSQL[@]}" -c "TRUNCATE $ds"
	fi
	[[ $ds == users ]] && "${PSQL[@]}" -c "TRUNCATE users"
	chmod 644 "$DATA/$ds".*
	TEXT_BYTES[$ds]=$(wc -c <"$DATA/$ds.txt")
	CSV_BYTES[$ds]=$(wc -c <"$DATA/$ds.csv")
	BIN_BYTES[$ds]=$(wc -c <"$DATA/$ds.bin")
	ZST_BYTES[$ds]=$(wc -c <"$DATA/$ds.txt.zst")
	SLOW_BYTES[$ds]=$(wc -c <"$DATA/$ds.slow.txt")
	lines=$(wc -l <"$DATA/$ds.txt")
	((lines == NROWS[$ds])) || die "$ds.txt has $lines lines, expected ${NROWS[$ds]}"
	lines=$(wc -l <"$DATA/$ds.slow.txt")
	((lines == SLOW_N[$ds])) || die "$ds.slow.txt has $lines lines, expected ${SLOW_N[$ds]}"
done

# The parallel experiment loads more users than the main table does: with
# one job a load into users is bound by its backend (indexes, foreign key).
say "writing users for --jobs: $PAR_N rows (at ${SECONDS} s)"
"$PGGEN" -q --preset users -n "$PAR_N" >"$DATA/users-par.txt"
chmod 644 "$DATA/users-par.txt"
PAR_BYTES=$(wc -c <"$DATA/users-par.txt")
PAR_BATCH=$((PAR_N / 10))   # ten batches to deal out, whatever the mode

# ---------------------------------------------------------------- loads
# methods DATASET: the load methods of the main table, in order.
methods() {
	local ms=(server psql pgcopy-text pgcopy-csv pgcopy-binary pgcopy-zstd pggen-pgcopy)
	[[ $1 == posts ]] && ms+=(pggen-binary-lz4)
	[[ -n $HAVE_PGREC ]] && ms+=(pgrec-pgcopy)
	ms+=(pgcopy-batches pginsert-values pginsert-pipeline pginsert-txn pginsert-row)
	echo "${ms[@]}"
}
declare -A LABEL=(
	[server]="server COPY FROM file"
	[psql]="psql \\copy (text)"
	[pgcopy-text]="pgcopy text"
	[pgcopy-csv]="pgcopy CSV"
	[pgcopy-binary]="pgcopy binary"
	[pgcopy-zstd]="pgcopy zstd text"
	[pggen-pgcopy]="pggen \\| pgcopy (text)"
	[pggen-binary-lz4]="pggen -F binary \\| pgcopy --toast-compression lz4"
	[pgrec-pgcopy]="pgrec \\| pgcopy (text)"
	[pgcopy-batches]="pgcopy text, --batch-rows 100k"
	[pginsert-values]="pginsert values (--batch 1000)"
	[pginsert-pipeline]="pginsert pipeline (--batch 1000)"
	[pginsert-txn]="pginsert txn"
	[pginsert-row]="pginsert row"
	# index and constraint overhead
	[idx-pk-plain]="orders (primary key): pgcopy"
	[idx-pk-defer]="orders (primary key): pgcopy --defer-indexes"
	[idx-sec-plain]="orders + index on customer_id: pgcopy"
	[idx-sec-defer]="orders + index on customer_id: pgcopy --defer-indexes"
	[con-plain]="users: pgcopy"
	[con-noemail]="users without the email index: pgcopy"
	[con-defer-idx]="users: pgcopy --defer-indexes"
	[con-defer-con]="users: pgcopy --defer-constraints"
	[con-defer-both]="users: pgcopy --defer-indexes --defer-constraints"
	# TOAST compression
	[toast-psql]="psql \\copy text (server default)"
	[toast-text-pglz]="pgcopy text --toast-compression pglz"
	[toast-text-lz4]="pgcopy text --toast-compression lz4"
	[toast-bin-pglz]="pgcopy binary --toast-compression pglz"
	[toast-bin-lz4]="pgcopy binary --toast-compression lz4"
	[sweep-copy-one]="pgcopy text, no --batch-rows"
	[cost-one]="pgcopy text, one COPY"
	[cost-batches]="pgcopy text, --batch-rows 100k"
	# parallel loads
	[par-j1]="pgcopy --jobs 1"
	[par-j2]="pgcopy --jobs 2"
	[par-j3]="pgcopy --jobs 3"
)
for b in "${SWEEP[@]}"; do
	LABEL[sweep-values-$b]="pginsert values --batch $b"
	LABEL[sweep-copy-$b]="pgcopy --batch-rows $b"
done

# rows_for / bytes_for DATASET METHOD: how many rows (and text bytes) a load
# of METHOD carries: txn and row only the first SLOW_N rows.
rows_for() {
	case $2 in
	pginsert-txn | pginsert-row) echo "${SLOW_N[$1]}" ;;
	par-*) echo "$PAR_N" ;;
	*) echo "${NROWS[$1]}" ;;
	esac
}
bytes_for() {
	case $2 in
	pginsert-txn | pginsert-row) echo "${SLOW_BYTES[$1]}" ;;
	par-*) echo "$PAR_BYTES" ;;
	*) echo "${TEXT_BYTES[$1]}" ;;
	esac
}
# label DATASET METHOD: the method's name in the report.
label() {
	local l=${LABEL[$2]}
	if (($(rows_for "$1" "$2") < NROWS[$1])); then
		l+=" — measured on $(rows_for "$1" "$2") rows; rate extrapolated"
	fi
	echo "$l"
}
# rss_from METHOD: where the client's peak RSS comes from: the loader's
# --stats JSON (pgcopy, pginsert), GNU time (psql), or nowhere (the server
# reads the file itself).
rss_from() {
	case $1 in
	server) echo none ;;
	psql | toast-psql) echo time ;;
	*) echo stats ;;
	esac
}
# loader METHOD: the program that talks to the server (for the RSS check).
loader() {
	case $1 in
	pginsert-* | sweep-values-*) echo pginsert ;;
	server | psql | toast-psql) echo psql ;;
	*) echo pgcopy ;;
	esac
}

QUIET_SQL="SET client_min_messages = warning;"    # no NOTICE for IF [NOT] EXISTS
# setup_sql DATASET METHOD: untimed SQL that puts the table in shape for the
# method (the experiments add or drop a secondary index).
setup_sql() {
	case $1:$2 in
	orders:idx-sec-*) echo "$QUIET_SQL CREATE INDEX IF NOT EXISTS orders_customer_id_idx ON orders (customer_id)" ;;
	orders:*) echo "$QUIET_SQL DROP INDEX IF EXISTS orders_customer_id_idx" ;;
	users:con-noemail) echo "$QUIET_SQL DROP INDEX IF EXISTS users_email_idx" ;;
	users:*) echo "$QUIET_SQL CREATE INDEX IF NOT EXISTS users_email_idx ON users (email)" ;;
	esac
}

STATS=$WORK/stats.json
RSSF=$WORK/rss.txt

# load METHOD DATASET: one load into the (empty) table DATASET.
load() {
	local m=$1 ds=$2 n=${NROWS[$2]}
	case $m in
	server) "${PSQL[@]}" -c "COPY $ds FROM $(lit "$DATA/$ds.txt")" ;;
	psql | toast-psql)
		"$GNU_TIME" -f %M -o "$RSSF" "${PSQL[@]}" -c "\\copy $ds from stdin" <"$DATA/$ds.txt" ;;
	pgcopy-text) "$PGCOPY" -q --stats "$STATS" "$ds" <"$DATA/$ds.txt" ;;
	pgcopy-csv) "$PGCOPY" -q -F csv --stats "$STATS" "$ds" <"$DATA/$ds.csv" ;;
	pgcopy-binary) "$PGCOPY" -q -F binary --stats "$STATS" "$ds" <"$DATA/$ds.bin" ;;
	pgcopy-zstd) "$PGCOPY" -q --stats "$STATS" "$ds" <"$DATA/$ds.txt.zst" ;;
	# The presets write exactly the rows of the files above (a test checks orders).
	pggen-pgcopy) "$PGGEN" -q --preset "$ds" -n "$n" | "$PGCOPY" -q --stats "$STATS" "$ds" ;;
	pggen-binary-lz4)
		"$PGGEN" -q --preset "$ds" -n "$n" -F binary |
			"$PGCOPY" -q --toast-compression lz4 --stats "$STATS" "$ds" ;;
	# The records carry their ids (the files above do too), in pgrec's column order.
	pgrec-pgcopy)
		"$PGREC" -q --with-ids "$ds" <"$DATA/$ds.jsonl" |
			"$PGCOPY" -q --stats "$STATS" "$ds" ;;
	pgcopy-batches) "$PGCOPY" -q --batch-rows 100k --stats "$STATS" "$ds" <"$DATA/$ds.txt" ;;
	pginsert-values | pginsert-pipeline)
		"$PGINSERT" -q --strategy "${m#pginsert-}" --stats "$STATS" "$ds" <"$DATA/$ds.txt" ;;
	pginsert-txn | pginsert-row)
		"$PGINSERT" -q --strategy "${m#pginsert-}" --stats "$STATS" "$ds" <"$DATA/$ds.slow.txt" ;;
	# batch-size sweep
	sweep-values-*)
		"$PGINSERT" -q --strategy values --batch "${m##*-}" --stats "$STATS" "$ds" <"$DATA/$ds.txt" ;;
	sweep-copy-one | cost-one) "$PGCOPY" -q --stats "$STATS" "$ds" <"$DATA/$ds.txt" ;;
	cost-batches) "$PGCOPY" -q --batch-rows 100k --stats "$STATS" "$ds" <"$DATA/$ds.txt" ;;
	sweep-copy-*) "$PGCOPY" -q --batch-rows "${m##*-}" --stats "$STATS" "$ds" <"$DATA/$ds.txt" ;;
	# index and constraint overhead
	idx-*-plain | con-plain | con-noemail) "$PGCOPY" -q --stats "$STATS" "$ds" <"$DATA/$ds.txt" ;;
	idx-*-defer | con-defer-idx)
		"$PGCOPY" -q --defer-indexes --stats "$STATS" "$ds" <"$DATA/$ds.txt" ;;
	con-defer-con) "$PGCOPY" -q --defer-constraints --stats "$STATS" "$ds" <"$DATA/$ds.txt" ;;
	con-defer-both)
		"$PGCOPY" -q --defer-indexes --defer-constraints --stats "$STATS" "$ds" <"$DATA/$ds.txt" ;;
	# parallel loads
	par-j*) "$PGCOPY" -q --jobs "${m#par-j}" --batch-rows "$PAR_BATCH" --stats "$STATS" "$ds" "$DATA/users-par.txt" ;;
	# TOAST compression
	toast-text-*) "$PGCOPY" -q --toast-compression "${m##*-}" --stats "$STATS" "$ds" <"$DATA/$ds.txt" ;;
	toast-bin-*)
		"$PGCOPY" -q -F binary --toast-compression "${m##*-}" --stats "$STATS" "$ds" <"$DATA/$ds.bin" ;;
	*) die "unknown method $m" ;;
	esac
}

# json_num KEY FILE: a numeric field of pgcopy's --stats JSON.
json_num() {
	sed -n "s/.*\"$1\": *\\([0-9.eE+-]*\\).*/\\1/p" "$2" | head -n 1
}

# elapsed T0 T1: seconds between two EPOCHREALTIME values.
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", b - a }'; }

# state_sql DATASET: a query for "rows|valid indexes|validated constraints|total bytes".
state_sql() {
	echo "SELECT count(*),
		(SELECT count(*) FROM pg_index WHERE indrelid = '$1'::regclass AND indisvalid),
		(SELECT count(*) FROM pg_constraint WHERE conrelid = '$1'::regclass AND convalidated),
		pg_total_relation_size('$1') FROM $1"
}

RESULTS=$WORK/results.tsv      # dataset method run seconds rss_kib total_bytes
: >"$RESULTS"

# one_load DATASET METHOD RUN: empty the table (and set it up), take a
# checkpoint, time one load, check what it left (rows, and that every index
# and constraint is back and valid), record it.
one_load() {
	local ds=$1 m=$2 run=$3 sql secs rss srows want before after tag
	sql=$(setup_sql "$ds" "$m")
	# One psql for all of it: a client start per load is noticeable in quick mode.
	before=$(psql -XAtq -v ON_ERROR_STOP=1 -c "TRUNCATE $ds" ${sql:+-c "$sql"} -c "CHECKPOINT" \
		-c "$(state_sql "$ds")")
	rm -f "$STATS" "$RSSF"
	t0=$EPOCHREALTIME
	load "$m" "$ds"
	t1=$EPOCHREALTIME
	secs=$(elapsed "$t0" "$t1")
	want=$(rows_for "$ds" "$m")
	after=$(psql -XAtq -v ON_ERROR_STOP=1 -c "$(state_sql "$ds")")
	[[ ${after%%|*} == "$want" ]] || die "$m loaded ${after%%|*} rows into $ds, expected $want"
	[[ $(cut -d'|' -f2,3 <<<"$after") == $(cut -d'|' -f2,3 <<<"$before") ]] ||
		die "$m: $ds has (rows|indexes|constraints|bytes) $after after the load, $before before"
	rss=-
	case $(rss_from "$m") in
	stats)
		[[ -s $STATS ]] || die "$m wrote no --stats file"
		rss=$(json_num peak_rss_kib "$STATS")
		srows=$(json_num rows "$STATS")
		[[ -n $rss && $srows == "$want" ]] ||
			die "$m: unexpected --stats: $(cat "$STATS")"
		;;
	time)
		rss=$(tail -n 1 "$RSSF")
		[[ $rss =~ ^[0-9]+$ ]] || die "$m: unexpected output of GNU time: $(cat "$RSSF")"
		;;
	esac
	tag=$([[ $run == 0 ]] && echo warm-up || echo "run $run")
	printf 'bench: %-7s %-40s %-8s %8.3f s%s\n' "$ds" "${LABEL[$m]}" "$tag" "$secs" \
		"$([[ $rss == - ]] || echo "  peak RSS ${rss} KiB")" >&2
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$ds" "$m" "$run" "$secs" "$rss" \
		"${after##*|}" >>"$RESULTS"
}

# rounds DATASET RUNS METHOD...: a warm-up round, then RUNS timed rounds.
# Rounds interleave the methods (warm-up round, then round 1, 2, 3), so that
# a slow patch on a shared machine hits all methods alike rather than one.
rounds() {
	local ds=$1 runs=$2 run m
	shift 2
	for ((run = 0; run <= runs; run++)); do    # run 0 is the warm-up
		for m in "$@"; do
			one_load "$ds" "$m" "$run"
		done
	done
}

for ds in "${DATASETS[@]}"; do
	read -ra ms <<<"$(methods "$ds")"
	say "loading $ds: ${#ms[@]} methods (at ${SECONDS} s)"
	rounds "$ds" "$RUNS" "${ms[@]}"
done

# ---------------------------------------------------------------- experiments
# Batch-size sweep on orders: pginsert values --batch B against pgcopy
# --batch-rows B (and pgcopy with neither).
SWEEP_METHODS=(sweep-copy-one)
for b in "${SWEEP[@]}"; do
	SWEEP_METHODS+=("sweep-values-$b" "sweep-copy-$b")
done
say "batch-size sweep on orders: ${SWEEP[*]} rows (at ${SECONDS} s)"
rounds orders "$EXP_RUNS" "${SWEEP_METHODS[@]}"

# The cost of batches: a 5% threshold needs more than three runs to be
# told from run-to-run noise (±5% here), so these two go seven times each,
# interleaved.
COST_RUNS=$([[ $MODE == full ]] && echo 7 || echo 3)
say "cost of --batch-rows 100k on orders: $COST_RUNS runs each (at ${SECONDS} s)"
rounds orders "$COST_RUNS" cost-one cost-batches

# Index and constraint overhead: orders with its primary key only and with a
# secondary index; users with everything its DDL has, and without the email
# index.
say "index and constraint overhead (at ${SECONDS} s)"
rounds orders "$EXP_RUNS" idx-pk-plain idx-pk-defer idx-sec-plain idx-sec-defer
"${PSQL[@]}" -c "DROP INDEX orders_customer_id_idx"      # orders as it was
rounds users "$EXP_RUNS" con-plain con-noemail con-defer-idx con-defer-con con-defer-both

# TOAST compression of posts: pglz (the server's default) against lz4.
say "TOAST compression on posts (at ${SECONDS} s)"
TOAST_METHODS=(toast-psql toast-text-pglz toast-text-lz4 toast-bin-pglz toast-bin-lz4)
rounds posts "$EXP_RUNS" "${TOAST_METHODS[@]}"

# Parallel loads: users (unique indexes, a foreign key) over 1, 2 and 3 connections.
say "parallel loads on users: $PAR_N rows, --jobs 1, 2, 3 (at ${SECONDS} s)"
PAR_METHODS=(par-j1 par-j2 par-j3)
rounds users "$EXP_RUNS" "${PAR_METHODS[@]}"

"${PSQL[@]}" -c "TRUNCATE orders, posts, users"

# ---------------------------------------------------------------- pgrec speed
# JSON lines to COPY text for the orders shape, to /dev/null, on one core.
PGREC_RATE=""
if [[ -n $HAVE_PGREC ]]; then
	rec_times=()
	for ((run = 0; run <= RUNS; run++)); do
		t0=$EPOCHREALTIME
		"$PGREC" -q --with-ids orders <"$DATA/orders.jsonl" >/dev/null
		t1=$EPOCHREALTIME
		((run == 0)) || rec_times+=("$(elapsed "$t0" "$t1")")
	done
	rec_median=$(printf '%s\n' "${rec_times[@]}" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
	PGREC_RATE=$(awk -v n="${NROWS[orders]}" -v t="$rec_median" 'BEGIN { printf "%.0f", n / t }')
	say "pgrec: ${NROWS[orders]} records in ${rec_median} s (median)"
fi

# ---------------------------------------------------------------- generation
# pggen alone (to /dev/null) against the server writing the same rows with
# COPY (SELECT … generate_series …) TO STDOUT, median of $RUNS after a warm-up.
GEN_N=$((ORDERS_N * 5))
say "generation: $GEN_N orders rows (at ${SECONDS} s)"
GENRESULTS=$WORK/gen.tsv
: >"$GENRESULTS"
for ((run = 0; run <= RUNS; run++)); do
	t0=$EPOCHREALTIME
	"$PGGEN" -q --preset orders -n "$GEN_N" >/dev/null
	t1=$EPOCHREALTIME
	psql -XAtq -v ON_ERROR_STOP=1 -c "COPY ($(orders_select "$GEN_N")) TO STDOUT" >/dev/null
	t2=$EPOCHREALTIME
	((run == 0)) && continue
	printf 'pggen\t%s\nserver\t%s\n' "$(elapsed "$t0" "$t1")" "$(elapsed "$t1" "$t2")" >>"$GENRESULTS"
	say "generate $GEN_N orders rows, run $run: pggen $(elapsed "$t0" "$t1") s, server $(elapsed "$t1" "$t2") s"
done
gen_median() {
	awk -F'\t' -v m="$1" '$1 == m { print $2 }' "$GENRESULTS" | sort -g |
		awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
GEN_PGGEN=$(gen_median pggen)
GEN_SERVER=$(gen_median server)

# ---------------------------------------------------------------- 10M rows
BIG_SECS="" BIG_RSS=""
if ((BIG_N > 0)); then
	say "loading $BIG_N orders rows through a pipe (pggen | pgcopy)"
	"${PSQL[@]}" -c "TRUNCATE orders" -c "CHECKPOINT"
	rm -f "$STATS"
	t0=$EPOCHREALTIME
	"$PGGEN" -q --preset orders -n "$BIG_N" | "$PGCOPY" -q --stats "$STATS" orders
	t1=$EPOCHREALTIME
	BIG_SECS=$(elapsed "$t0" "$t1")
	BIG_RSS=$(json_num peak_rss_kib "$STATS")
	big_rows=$(json_num rows "$STATS")
	[[ -n $BIG_RSS && $big_rows == "$BIG_N" ]] ||
		die "10M load: unexpected --stats: $(cat "$STATS")"
	say "10M rows: ${BIG_SECS} s, pgcopy peak RSS ${BIG_RSS} KiB"
	"${PSQL[@]}" -c "TRUNCATE orders"
fi

# ---------------------------------------------------------------- machine
commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
cpu=$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo | head -n 1)
mem=$(free -g | awk '/^Mem:/ { print $2 }')
server_version=$(psql -XAtq -c "SHOW server_version")
settings=$(psql -XAtq -F ' = ' -c "SELECT name, current_setting(name)
	FROM pg_settings
	WHERE name IN ('fsync', 'synchronous_commit', 'wal_level', 'full_page_writes',
	               'shared_buffers', 'max_wal_size', 'checkpoint_timeout')
	ORDER BY name" | paste -sd ',' | sed 's/,/, /g')
pgcopy_version=$("$PGCOPY" --version 2>/dev/null | head -n 1 || true)
psql_version=$(psql --version | head -n 1)
kernel=$(uname -srm)
disk=$(df -h "$DATA" | awk 'NR == 2 { print $1 ", " $2 " (" $5 " used)" }')
toast_default=$(psql -XAtq -c "SHOW default_toast_compression")

# ---------------------------------------------------------------- report
# median DATASET METHOD: median seconds of the timed runs.
median() {
	awk -F'\t' -v d="$1" -v m="$2" '$1 == d && $2 == m && $3 > 0 { print $4 }' "$RESULTS" |
		sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2];
			else printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
runs_list() {
	awk -F'\t' -v d="$1" -v m="$2" '$1 == d && $2 == m && $3 > 0 { printf "%s%.2f", s, $4; s = ", " }' \
		"$RESULTS"
}
# peak_rss DATASET METHOD: largest peak RSS (KiB) over all its runs, warm-up included.
peak_rss() {
	awk -F'\t' -v d="$1" -v m="$2" '$1 == d && $2 == m && $5 != "-" && $5 > max { max = $5 }
		END { if (max != "") print max }' "$RESULTS"
}
# table_bytes DATASET METHOD: pg_total_relation_size after its last run.
table_bytes() {
	awk -F'\t' -v d="$1" -v m="$2" '$1 == d && $2 == m { v = $6 } END { print v }' "$RESULTS"
}
fmt_mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
rss_cell() {  # DATASET METHOD: peak RSS in MiB, or – when there is no client
	local k
	k=$(peak_rss "$1" "$2")
	if [[ -n $k ]]; then fmt_mib "$k"; else echo "–"; fi
}
# speedup DATASET METHOD REFERENCE: time of REFERENCE / time of METHOD (same rows).
speedup() {
	awk -v a="$(median "$1" "$2")" -v b="$(median "$1" "$3")" 'BEGIN { printf "%.4f", b / a }'
}
# times_cell DATASET METHOD REFERENCE: the speedup as "1.23×".
times_cell() { awk -v r="$(speedup "$1" "$2" "$3")" 'BEGIN { printf "%.2f×", r }'; }
# cells DATASET METHOD: "median s | rows/s | MB/s (text)".
cells() {
	awk -v n="$(rows_for "$1" "$2")" -v b="$(bytes_for "$1" "$2")" -v t="$(median "$1" "$2")" \
		'BEGIN { printf "%.3f | %.0f | %.1f", t, n / t, b / t / 1e6 }'
}

# RATIO[ds,m]: the method's rate (rows/s) over psql \copy's, measured in
# the same rounds; for txn and row (fewer rows) rates are what is compared.
declare -A RATIO
TABLE=""
for ds in "${DATASETS[@]}"; do
	psql_med=$(median "$ds" psql)
	read -ra ms <<<"$(methods "$ds")"
	for m in "${ms[@]}"; do
		RATIO[$ds,$m]=$(awk -v p="$psql_med" -v N="${NROWS[$ds]}" -v t="$(median "$ds" "$m")" \
			-v n="$(rows_for "$ds" "$m")" 'BEGIN { printf "%.4f", (n / t) / (N / p) }')
		TABLE+="| $ds | $(label "$ds" "$m") | $(cells "$ds" "$m") | "
		TABLE+="$(awk -v r="${RATIO[$ds,$m]}" 'BEGIN { printf "%.2f×", r }') | "
		TABLE+="$(rss_cell "$ds" "$m") | $(runs_list "$ds" "$m") |"$'\n'
	done
done

# Every streamed pgcopy run, experiments included, for the memory check; a
# batched load holds up to jobs + 2 batches (16 MiB each unless --batch-bytes)
# by design, and is reported apart.
ALL_RSS_KIB=()
BATCH_RSS_MAX=0 BATCH_RSS_WORST=""
while IFS=$'\t' read -r ds m; do
	[[ $(loader "$m") == pgcopy ]] || continue
	k=$(peak_rss "$ds" "$m")
	if [[ $m == pgcopy-batches || $m == cost-batches || $m == par-* ||
		($m == sweep-copy-* && $m != sweep-copy-one) ]]; then
		if ((k > BATCH_RSS_MAX)); then BATCH_RSS_MAX=$k BATCH_RSS_WORST="$ds ${LABEL[$m]}"; fi
		continue
	fi
	ALL_RSS_KIB+=("$ds ${LABEL[$m]}:$k")
done < <(cut -f1,2 "$RESULTS" | sort -u)
if [[ -n $BIG_RSS ]]; then
	ALL_RSS_KIB+=("orders ${BIG_N} rows via pipe:$BIG_RSS")
fi

LIMIT_KIB=$((16 * 1024))
verdict_speed() {  # DATASET METHOD
	awk -v r="${RATIO[$1,$2]}" 'BEGIN { print (r >= 1.0) ? "PASS" : "FAIL" }'
}
# check_ratio TEXT RATIO MIN: one acceptance line for a speed-up.
check_ratio() {
	printf '| %s | %s |\n' "$1" "$(awk -v r="$2" -v min="$3" 'BEGIN {
		printf "%.3f× | %s", r, (r >= min) ? "PASS" : "FAIL" }')"
}
# check_rank DATASET: pginsert row < txn < min(pipeline, values) < pgcopy text,
# by measured rate.
check_rank() {
	local ds=$1
	awk -v ds="$ds" -v row="${RATIO[$ds,pginsert-row]}" -v txn="${RATIO[$ds,pginsert-txn]}" \
		-v pipe="${RATIO[$ds,pginsert-pipeline]}" -v val="${RATIO[$ds,pginsert-values]}" \
		-v copy="${RATIO[$ds,pgcopy-text]}" -v slow="${SLOW_N[$ds]}" -v n="${NROWS[$ds]}" 'BEGIN {
		lo = (pipe < val) ? pipe : val
		ok = (row < txn && txn < lo && lo < copy)
		note = (slow < n) ? sprintf(" (row, txn: rates on %d rows)", slow) : ""
		printf "| %s: pginsert row < txn < min(pipeline, values) < pgcopy text, by rate%s |", ds, note
		printf " row %.3f× < txn %.3f× < min(pipeline %.3f×, values %.3f×) < pgcopy %.3f× (× psql \\copy) | %s |\n",
			row, txn, pipe, val, copy, ok ? "PASS" : "FAIL" }'
}

{
	echo "# pgpipe benchmarks"
	echo
	echo "Generated by \`make bench\` ($MODE mode$([[ $MODE == quick ]] && echo ', QUICK=1')) on"
	echo "$(date -u '+%Y-%m-%d %H:%M:%S UTC'), git commit \`$commit\`. Do not edit by hand:"
	echo "run \`make bench\` again to refresh it. The whole run took ${SECONDS} s."
	echo
	echo "- Machine: $(nproc) CPUs ($cpu), ${mem} GiB memory (\`free -g\`), $kernel;"
	echo "  data files on $disk. Clients, generators and the server share the CPUs, and"
	echo "  other work may run on the machine at the same time"
	echo "- Server: PostgreSQL $server_version, a \`pgsandbox\` cluster on the same machine,"
	echo "  clients connected over its Unix socket"
	echo "- Sandbox settings that differ from a stock server: $settings"
	echo "  (durability is traded for speed, so the numbers show the cost of the load path"
	echo "  rather than of the disk)"
	echo "- Clients: $psql_version; ${pgcopy_version:-pgcopy}"
	echo
	echo "## How to read this"
	echo
	echo "Each dataset is loaded by each method once to warm up, then $RUNS more times"
	echo "(in rounds: every method once per round, so drift on a shared machine hits"
	echo "them alike); the table shows the median of the $RUNS timed wall-clock times"
	echo "(client start, connection and commit included). Before every load the table is emptied with"
	echo "\`TRUNCATE\` and a \`CHECKPOINT\` is taken, both outside the timing. *rows/s* and"
	echo "*MB/s* are derived from the median; MB/s is always the size of the dataset's"
	echo "**uncompressed COPY text file** (10^6 bytes) divided by the time, whatever the"
	echo "method actually read, so that it is comparable across methods. *× psql* is the"
	echo "rate of the method (rows/s) divided by the rate of \`psql \\copy\` in the same rounds:"
	echo "above 1 the method is faster than psql, below 1 slower. *Server COPY FROM file*"
	echo "reads the text file inside the server with no client in the way: the usual ceiling"
	echo "for text input. \`pginsert txn\` and \`row\` are too slow for the whole dataset:"
	echo "where a row says *measured on N rows; rate extrapolated*, they loaded the first N"
	echo "rows of the same file, its *median s* is the time for those N rows, and rows/s, MB/s"
	echo "and × psql are that measured rate — no time for the whole dataset is claimed."
	echo "*Client peak RSS* is the largest peak resident set size of the loading client"
	echo "over all runs of that row: pgcopy's and pginsert's own \`peak_rss_kib\` from"
	echo "\`--stats\`, psql's from GNU time (\`/usr/bin/time -f %M\`); for a pipe it is the"
	echo "loader's (pgcopy's), and server COPY has no client doing the work."
	echo "After every load the script checks the row count and that every index and"
	echo "constraint of the table is back and valid."
	echo "Timings on a small shared machine vary by several per cent between runs."
	echo
	echo "## Input files"
	echo
	echo "| dataset | rows | text bytes | CSV bytes | binary bytes | zstd -3 text bytes | rows for txn, row |"
	echo "|---|---:|---:|---:|---:|---:|---:|"
	for ds in "${DATASETS[@]}"; do
		echo "| $ds | ${NROWS[$ds]} | ${TEXT_BYTES[$ds]} | ${CSV_BYTES[$ds]} | ${BIN_BYTES[$ds]} |" \
			"${ZST_BYTES[$ds]} | ${SLOW_N[$ds]} |"
	done
	echo
	echo "\`orders(id bigserial primary key, customer_id int, amount numeric(12,4),"
	echo "status varchar(32))\`: customer_id = i % 10000, amount = (i % 500) + 0.99,"
	echo "status 'completed' when i % 3 = 0 else 'pending'. \`posts(id serial primary key,"
	echo "title text, body text, payload text)\`: repeat('title', 1764), repeat('body', 1764),"
	echo "repeat('dummy data', 1764) — about 33 KB per row, TOASTed. The files are written"
	echo "by the server itself (\`COPY (SELECT …) TO STDOUT\`). \`users\` and \`roles\` are"
	echo "created by \`pggen --ddl --preset\`: users(id serial primary key, username unique,"
	echo "email with an index, created_at timestamptz, role_id references roles(id)); the"
	echo "$ROLES_N roles are loaded once and only users is emptied between loads. The users"
	echo "files are written by the server from a table filled by \`pggen --preset users\`,"
	echo "the same rows \`pggen | pgcopy\` loads."
	echo
	echo "## Load times"
	echo
	echo "| dataset | method | median s | rows/s | MB/s (text) | × psql | client peak RSS MiB | runs (s) |"
	echo "|---|---|---:|---:|---:|---:|---:|---|"
	printf '%s' "$TABLE"
	echo
	if [[ -z $HAVE_PGREC ]]; then
		echo "pgrec \\| pgcopy: not built yet (no \`${PGREC#"$ROOT"/}\`), so it has no rows here."
	else
		echo "pgrec \\| pgcopy: \`pgrec --with-ids TABLE\` turns JSON lines (one object per row,"
		echo "written by the server from the loaded table with \`row_to_json\`) into a script"
		echo "stream whose COPY lines name the columns, which \`pgcopy TABLE\` loads as it is."
	fi
	echo
	echo "## Batch-size sweep"
	echo
	echo "orders, ${NROWS[orders]} rows: \`pginsert --strategy values --batch B\` (B rows per"
	echo "INSERT statement, one transaction) against \`pgcopy --batch-rows B\` (a commit every"
	echo "B rows). Warm-up, then median of $EXP_RUNS, interleaved like the table above."
	echo
	echo "| B | pginsert values: median s | rows/s | peak RSS MiB | pgcopy --batch-rows: median s | rows/s | peak RSS MiB |"
	echo "|---:|---:|---:|---:|---:|---:|---:|"
	for b in "${SWEEP[@]}"; do
		v=$(cells orders "sweep-values-$b") c=$(cells orders "sweep-copy-$b")
		echo "| $b | ${v% |*} | $(rss_cell orders "sweep-values-$b") | ${c% |*} |" \
			"$(rss_cell orders "sweep-copy-$b") |"
	done
	c=$(cells orders sweep-copy-one)
	echo "| pgcopy without --batch-rows | | | | ${c% |*} | $(rss_cell orders sweep-copy-one) |"
	echo
	echo "The cost of batches on their own: one COPY against \`--batch-rows 100k\`, $COST_RUNS"
	echo "interleaved runs each after a warm-up (the acceptance row below uses these)."
	echo
	echo "| method | median s | rows/s | MB/s (text) | × one COPY | runs (s) |"
	echo "|---|---:|---:|---:|---:|---|"
	for m in cost-one cost-batches; do
		echo "| ${LABEL[$m]} | $(cells orders "$m") | $(times_cell orders "$m" cost-one) | $(runs_list orders "$m") |"
	done
	echo
	echo "## Index and constraint overhead"
	echo
	echo "pgcopy text, whole dataset; *× plain* is the time of a plain pgcopy into the same"
	echo "table divided by this row's time (measured in the same rounds). \`--defer-indexes\`"
	echo "drops the table's indexes and rebuilds them after the load, \`--defer-constraints\`"
	echo "drops its foreign keys and re-adds (validates) them after, both in the load's"
	echo "transaction. Warm-up, then median of $EXP_RUNS."
	echo
	echo "| dataset | table and method | median s | rows/s | MB/s (text) | × plain | runs (s) |"
	echo "|---|---|---:|---:|---:|---:|---|"
	for pair in "orders idx-pk-plain idx-pk-plain" "orders idx-pk-defer idx-pk-plain" \
		"orders idx-sec-plain idx-sec-plain" "orders idx-sec-defer idx-sec-plain" \
		"users con-plain con-plain" "users con-defer-idx con-plain" \
		"users con-defer-con con-plain" "users con-defer-both con-plain" \
		"users con-noemail con-plain"; do
		read -r ds m ref <<<"$pair"
		echo "| $ds | ${LABEL[$m]} | $(cells "$ds" "$m") |" \
			"$(times_cell "$ds" "$m" "$ref") |" \
			"$(runs_list "$ds" "$m") |"
	done
	echo
	awk -v a="$(median orders idx-sec-plain)" -v b="$(median orders idx-pk-plain)" \
		-v c="$(median users con-plain)" -v d="$(median users con-noemail)" 'BEGIN {
		printf "A plain load into orders with the secondary index on customer_id takes %.2f× the\n", a / b
		printf "time it takes with the primary key only; into users with its email index, %.2f×\n", c / d
		printf "the time without it (a ratio within a few per cent of 1.0 is noise).\n" }'
	echo
	echo "## TOAST compression (posts)"
	echo
	echo "posts, ${NROWS[posts]} rows of about 33 KB, each column TOASTed and compressed."
	echo "\`--toast-compression\` sets \`default_toast_compression\` for the load's session"
	echo "(the server's default is $toast_default). *× psql* is against \`psql \\copy\` of the"
	echo "text file in the same rounds; *table MiB* is \`pg_total_relation_size\` after the"
	echo "load. Warm-up, then median of $EXP_RUNS."
	echo
	echo "| method | median s | rows/s | MB/s (text) | × psql | table MiB | runs (s) |"
	echo "|---|---:|---:|---:|---:|---:|---|"
	for m in "${TOAST_METHODS[@]}"; do
		echo "| ${LABEL[$m]} | $(cells posts "$m") |" \
			"$(times_cell posts "$m" toast-psql) |" \
			"$(awk -v b="$(table_bytes posts "$m")" 'BEGIN { printf "%.1f", b / 1048576 }') |" \
			"$(runs_list posts "$m") |"
	done
	echo
	echo "## Parallel loads (--jobs)"
	echo
	echo "users, $PAR_N rows written by \`pggen --preset users\` (a primary key, a unique"
	echo "username, an index on email and a foreign key to roles), loaded by pgcopy in batches"
	echo "of $PAR_BATCH rows (\`--batch-rows\`) over 1, 2 and 3 connections. *× --jobs 1* is the time with one job"
	echo "divided by this row's time, in the same rounds. The machine has $(nproc) cores."
	echo "Warm-up, then median of $EXP_RUNS."
	echo
	echo "| method | median s | rows/s | MB/s (text) | × --jobs 1 | peak RSS MiB | runs (s) |"
	echo "|---|---:|---:|---:|---:|---:|---|"
	for m in "${PAR_METHODS[@]}"; do
		echo "| ${LABEL[$m]} | $(cells users "$m") |" \
			"$(times_cell users "$m" par-j1) |" \
			"$(rss_cell users "$m") | $(runs_list users "$m") |"
	done
	echo
	echo "## Generation"
	echo
	echo "$GEN_N orders rows written to /dev/null, median of $RUNS after a warm-up: pggen on one"
	echo "core against the server's own \`COPY (SELECT … generate_series …) TO STDOUT\` of the same rows."
	echo
	echo "| generator | median s | rows/s |"
	echo "|---|---:|---:|"
	awk -v n="$GEN_N" -v a="$GEN_PGGEN" -v b="$GEN_SERVER" 'BEGIN {
		printf "| pggen --preset orders | %.3f | %.0f |\n", a, n / a
		printf "| server COPY (SELECT …) TO STDOUT | %.3f | %.0f |\n", b, n / b }'
	echo
	echo "## Memory on a large stream"
	echo
	if [[ -n $BIG_RSS ]]; then
		echo "$BIG_N orders rows generated by pggen and piped straight into pgcopy"
		echo "(\`pggen --preset orders -n $BIG_N | pgcopy orders\`),"
		echo "one run into an empty table:"
		echo
		echo "| rows | seconds (generator + load) | rows/s | pgcopy peak RSS MiB |"
		echo "|---:|---:|---:|---:|"
		awk -v n="$BIG_N" -v t="$BIG_SECS" -v k="$BIG_RSS" \
			'BEGIN { printf "| %d | %.2f | %.0f | %.1f |\n", n, t, n / t, k / 1024 }'
		echo
		small=$(peak_rss orders pgcopy-text)
		echo "For comparison, pgcopy's peak RSS on the ${NROWS[orders]}-row orders file was"
		echo "$(fmt_mib "$small") MiB: memory does not grow with the number of rows."
	else
		echo "Not run in quick mode (QUICK=1); \`make bench\` loads $((10000000)) rows here."
	fi
	echo
	echo "## Acceptance"
	echo
	spread=$(awk -F'\t' '$3 > 0 { k = $1 SUBSEP $2
			if (!(k in lo) || $4 < lo[k]) lo[k] = $4
			if (!(k in hi) || $4 > hi[k]) hi[k] = $4 }
		END { for (k in lo) printf "%.1f\n", (hi[k] / lo[k] - 1) * 100 }' "$RESULTS" |
		sort -g | awk '{ v[NR] = $1 } END { printf "typically %s%%, at most %s%%",
			v[int((NR + 1) / 2)], v[NR] }')
	echo "Computed from the measurements above. A speed check passes when the unrounded"
	echo "ratio of medians is at least the bound (1.000 unless the check says otherwise)."
	echo "In this run the timed runs of one method"
	echo "differed by $spread (slowest / fastest), so a ratio within a few"
	echo "per cent of the bound is a tie within noise rather than a real difference."
	echo "Every ratio compares two methods measured in the same rounds of this run."
	echo
	echo "| check | measured | result |"
	echo "|---|---:|---|"
	for pair in "orders pgcopy-text" "posts pgcopy-text" "posts pgcopy-binary"; do
		read -r ds m <<<"$pair"
		printf '| %s: %s ≥ 1.0× psql \\copy | %.3f× | %s |\n' "$ds" "${LABEL[$m]}" \
			"${RATIO[$ds,$m]}" "$(verdict_speed "$ds" "$m")"
	done
	awk -v n="$GEN_N" -v a="$GEN_PGGEN" 'BEGIN { r = n / a
		printf "| pggen orders text to /dev/null ≥ 5M rows/s on one core | %.2fM rows/s | %s |\n",
			r / 1e6, (r >= 5e6) ? "PASS" : "FAIL" }'
	awk -v a="$GEN_PGGEN" -v b="$GEN_SERVER" 'BEGIN { r = b / a
		printf "| pggen ≥ 2× the server'"'"'s COPY (SELECT … generate_series …) TO STDOUT | %.2f× | %s |\n",
			r, (r >= 2) ? "PASS" : "FAIL" }'
	for ds in "${DATASETS[@]}"; do
		awk -v ds="$ds" -v a="$(median "$ds" pggen-pgcopy)" -v b="$(median "$ds" pgcopy-text)" 'BEGIN {
			r = b / a
			printf "| %s: pggen \\| pgcopy ≥ 0.95× pgcopy from a pre-written file | %.3f× | %s |\n",
				ds, r, (r >= 0.95) ? "PASS" : "FAIL" }'
	done
	awk -v a="$(median orders cost-batches)" -v b="$(median orders cost-one)" -v n="$COST_RUNS" 'BEGIN {
		r = b / a
		printf "| orders: --batch-rows 100k costs ≤ 5%% against one COPY (≥ 0.95×; median of %d) | %.3f× | %s |\n",
			n, r, (r >= 0.95) ? "PASS" : "FAIL" }'
	max_kib=0 worst=""
	for e in "${ALL_RSS_KIB[@]}"; do
		k=${e##*:}
		if ((k > max_kib)); then max_kib=$k worst=${e%:*}; fi
	done
	rss_verdict=$( ((max_kib <= LIMIT_KIB)) && echo PASS || echo FAIL)
	scope="every streamed pgcopy run (experiments included)"
	[[ -n $BIG_RSS ]] && scope+=", the $BIG_N-row pipe included" ||
		scope+=" (quick mode: the 10M-row run was skipped)"
	printf '| pgcopy peak RSS ≤ 16 MiB in %s | %s MiB max (%s) | %s |\n' \
		"$scope" "$(fmt_mib "$max_kib")" "$worst" "$rss_verdict"
	printf '| (information) batched pgcopy runs hold at most jobs + 2 batches: peak RSS | %s MiB max (%s) | – |\n' \
		"$(fmt_mib "$BATCH_RSS_MAX")" "$BATCH_RSS_WORST"
	if [[ -n $PGREC_RATE ]]; then
		awk -v r="$PGREC_RATE" 'BEGIN { printf "| pgrec JSON → text ≥ 1M records/s on one core (orders shape) | %.2fM records/s | %s |\n",
			r / 1e6, (r >= 1e6) ? "PASS" : "FAIL" }'
		awk -v a="$(median orders pgrec-pgcopy)" -v b="$(median orders pgcopy-text)" 'BEGIN { r = b / a
			printf "| orders: pgrec \\| pgcopy ≥ 0.9× pgcopy from a pre-made TSV | %.3f× | %s |\n",
				r, (r >= 0.9) ? "PASS" : "FAIL" }'
	fi
	echo "| Python routes of the seeds (SQLAlchemy ORM add_all, bulk_insert_mappings, Core executemany) | not measured: needs python3-sqlalchemy and python3-psycopg2, $(/usr/bin/python3 -c 'import sqlalchemy, psycopg2' 2>/dev/null && echo 'installed, but not scripted yet' || echo 'not both installed here') | – |"
	check_ratio "posts: \`pggen --preset posts -F binary \\| pgcopy --toast-compression lz4 posts\` ≥ 5× psql \\copy of the text file" \
		"${RATIO[posts,pggen-binary-lz4]}" 5
	check_ratio "orders (primary key): pgcopy --defer-indexes ≥ 1.4× a plain pgcopy" \
		"$(speedup orders idx-pk-defer idx-pk-plain)" 1.4
	check_ratio "users (primary key, unique username, email index, foreign key): pgcopy --defer-indexes --defer-constraints ≥ 1.5× a plain pgcopy" \
		"$(speedup users con-defer-both con-plain)" 1.5
	for ds in "${DATASETS[@]}"; do
		check_rank "$ds"
	done
	check_ratio "users (unique indexes, foreign key), $PAR_N rows: pgcopy --jobs 2 ≥ 1.4× --jobs 1" \
		"$(speedup users par-j2 par-j1)" 1.4
} >"$WORK/benchmarks.md"

mkdir -p "$(dirname "$OUT")"
TMPOUT=$OUT.tmp.$$
cp "$WORK/benchmarks.md" "$TMPOUT"
mv -f "$TMPOUT" "$OUT"
TMPOUT=""

cat "$OUT"
say "wrote ${OUT#"$ROOT"/}"
