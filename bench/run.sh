#!/usr/bin/env bash
# bench/run.sh: the runner of `make bench`: measures, and writes every run to a results file.
#
#   BUILD=build QUICK=1 bench/run.sh     (what `make bench QUICK=1` runs first)
#   bench/render.py -o docs/benchmarks.md build/bench/results.tsv   (then this)
#
# Starts a throwaway cluster with pgsandbox, has the server write the input
# files (orders, posts and users, as COPY text, CSV, binary and zstd'd text),
# then for every dataset and load method does one warm-up load and three timed
# loads (TRUNCATE + CHECKPOINT before each, untimed):
#
#   server COPY FROM 'file'   psql \copy from stdin   pgcopy text | csv | binary | zstd
#   pgcopy --fast (the text file as an argument, so that pgcopy knows its size)
#   pggen | pgcopy   pgrec | pgcopy (once pgrec is built)   pgcopy --batch-rows 100k
#   pginsert values | pipeline | txn | row   (txn and row on the first rows only)
#
# Then the experiments, in the same way: a batch-size sweep (pginsert values
# --batch and pgcopy --batch-rows), index and constraint overhead (a secondary
# index, --defer-indexes, --defer-constraints), TOAST compression (posts),
# parallel loads on PAR_N users rows (1,000,000 in full mode: pgcopy --jobs 1,
# 2, 3 with --batch-rows, --jobs 2 with the batches it cuts from the file
# size, --fast, and psql \copy of the same file) and --jobs 2 with default
# batches against one job on orders.  In full mode it also loads 10,000,000
# orders rows through a pipe to show that pgcopy's memory stays flat.
# QUICK=1 uses smaller datasets, fewer sweep points and skips the 10M run.
#
# Every load is checked afterwards: the row count, and that every index and
# constraint of the table is back and valid (--fast defers them).  The plan
# --fast chose for each dataset (its --stats "plan") is kept as a setting.
#
# Every run, warm-ups included, becomes one line of the results file
# (BENCH_RESULTS, default $BUILD/bench/results.tsv, replaced only when the
# whole run succeeded), next to the settings of the run, the machine and the
# cluster.  Medians, ratios and docs/benchmarks.md are bench/render.py's job,
# so that a change of the report needs no new measurement.  The format:
#
#   meta  KEY  VALUE          (fast_plan.WORKLOAD.METHOD: what --fast chose)
#   run   WORKLOAD  METHOD  RUN  SECONDS  ROWS  BYTES  RSS_KIB  TABLE_BYTES
#
# tab-separated; RUN 0 is the warm-up; WORKLOAD is a dataset (a load into that
# table) or generate, convert or stream; BYTES is the COPY text the rows take,
# RSS_KIB the loading client's peak RSS and TABLE_BYTES pg_total_relation_size
# after the load ("-" where there is none).
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
RESULTS_OUT=${BENCH_RESULTS:-$BUILD/bench/results.tsv}
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
for c in psql zstd awk sort head python3; do
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
TMPOUT=""      # the results file being put in place
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

RESULTS=$WORK/results.tsv      # the results file being written (see the top)
: >"$RESULTS"
# record_meta KEY VALUE: one setting of the run (tabs and newlines become spaces).
record_meta() {
	local v=${2//$'\t'/ }
	printf 'meta\t%s\t%s\n' "$1" "${v//$'\n'/ }" >>"$RESULTS"
}
# record_run WORKLOAD METHOD RUN SECONDS ROWS BYTES RSS_KIB TABLE_BYTES: one run.
record_run() {
	local IFS=$'\t'
	printf 'run\t%s\n' "$*" >>"$RESULTS"
}
record_meta format 1
record_meta mode "$MODE"
record_meta runs "$RUNS"
record_meta exp_runs "$EXP_RUNS"
record_meta roles_n "$ROLES_N"
record_meta sweep "${SWEEP[*]}"

# ---------------------------------------------------------------- sandbox
say "starting a sandbox cluster"
# Stock durability (fsync, synchronous_commit, full_page_writes on): what
# users run. BENCH_FAST=1 measures on the sandbox's fast settings instead,
# and the report says so.
durability=(--durable)
[[ -n ${BENCH_FAST:-} ]] && durability=()
record_meta durability "$([[ -n ${BENCH_FAST:-} ]] && echo off || echo stock)"
env_lines=$("$PGSANDBOX" -q start "${durability[@]}") || die "pgsandbox start failed"
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
	record_meta "rows.$ds" "${NROWS[$ds]}"
	record_meta "slow_rows.$ds" "${SLOW_N[$ds]}"
	record_meta "text_bytes.$ds" "${TEXT_BYTES[$ds]}"
	record_meta "csv_bytes.$ds" "${CSV_BYTES[$ds]}"
	record_meta "binary_bytes.$ds" "${BIN_BYTES[$ds]}"
	record_meta "zstd_bytes.$ds" "${ZST_BYTES[$ds]}"
done
record_meta datasets "${DATASETS[*]}"

# The parallel experiment loads more users than the main table does: with
# one job a load into users is bound by its backend (indexes, foreign key).
say "writing users for --jobs: $PAR_N rows (at ${SECONDS} s)"
"$PGGEN" -q --preset users -n "$PAR_N" >"$DATA/users-par.txt"
chmod 644 "$DATA/users-par.txt"
PAR_BYTES=$(wc -c <"$DATA/users-par.txt")
PAR_BATCH=$((PAR_N / 10))   # ten batches to deal out, whatever the mode
record_meta par_batch "$PAR_BATCH"
record_meta par_rows "$PAR_N"

# ---------------------------------------------------------------- loads
# methods DATASET: the load methods of the main table, in order.
methods() {
	local ms=(server psql pgcopy-text pgcopy-csv pgcopy-binary pgcopy-zstd pgcopy-fast pggen-pgcopy)
	[[ $1 == posts ]] && ms+=(pggen-binary-lz4)
	[[ -n $HAVE_PGREC ]] && ms+=(pgrec-pgcopy)
	ms+=(pgcopy-batches pginsert-values pginsert-pipeline pginsert-txn pginsert-row)
	echo "${ms[@]}"
}
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
# rss_from METHOD: where the client's peak RSS comes from: the loader's
# --stats JSON (pgcopy, pginsert), GNU time (psql), or nowhere (the server
# reads the file itself).
rss_from() {
	case $1 in
	server) echo none ;;
	psql | toast-psql | par-psql) echo time ;;
	*) echo stats ;;
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
	# A file argument, not stdin: --fast (and --jobs without a batch size) size
	# their batches from the file.
	pgcopy-fast) "$PGCOPY" -q --fast --stats "$STATS" "$ds" "$DATA/$ds.txt" ;;
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
	# parallel loads (PAR_N rows; par-j2-default before par-j*, which would take it)
	par-psql)
		"$GNU_TIME" -f %M -o "$RSSF" "${PSQL[@]}" -c "\\copy $ds from stdin" <"$DATA/users-par.txt" ;;
	par-fast) "$PGCOPY" -q --fast --stats "$STATS" "$ds" "$DATA/users-par.txt" ;;
	par-j2-default) "$PGCOPY" -q --jobs 2 --stats "$STATS" "$ds" "$DATA/users-par.txt" ;;
	par-j[0-9]) "$PGCOPY" -q --jobs "${m#par-j}" --batch-rows "$PAR_BATCH" --stats "$STATS" "$ds" "$DATA/users-par.txt" ;;
	# --jobs 2 with the batches it cuts from the file size, against one job
	jobs-one) "$PGCOPY" -q --stats "$STATS" "$ds" "$DATA/$ds.txt" ;;
	jobs-two) "$PGCOPY" -q --jobs 2 --stats "$STATS" "$ds" "$DATA/$ds.txt" ;;
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
# json_str KEY FILE: a string field of pgcopy's --stats JSON ("" when absent).
json_str() {
	python3 -c 'import json, sys; print(json.load(open(sys.argv[2])).get(sys.argv[1], ""))' "$1" "$2"
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

# one_load DATASET METHOD RUN: empty the table (and set it up), take a
# checkpoint, time one load, check what it left (rows, and that every index
# and constraint is back and valid), record it.
one_load() {
	local ds=$1 m=$2 run=$3 sql secs rss srows want before after tag plan
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
		# What --fast chose, once per dataset and method (at the warm-up).
		if [[ $m == *-fast && $run == 0 ]]; then
			plan=$(json_str plan "$STATS") || die "$m: --stats is not JSON: $(cat "$STATS")"
			record_meta "fast_plan.$ds.$m" "$plan"
			say "$ds $m plan: $plan"
		fi
		;;
	time)
		rss=$(tail -n 1 "$RSSF")
		[[ $rss =~ ^[0-9]+$ ]] || die "$m: unexpected output of GNU time: $(cat "$RSSF")"
		;;
	esac
	tag=$([[ $run == 0 ]] && echo warm-up || echo "run $run")
	printf 'bench: %-7s %-20s %-8s %8.3f s%s\n' "$ds" "$m" "$tag" "$secs" \
		"$([[ $rss == - ]] || echo "  peak RSS ${rss} KiB")" >&2
	record_run "$ds" "$m" "$run" "$secs" "$want" "$(bytes_for "$ds" "$m")" "$rss" "${after##*|}"
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
record_meta cost_runs "$COST_RUNS"
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

# Parallel loads: users (unique indexes, a foreign key) over 1, 2 and 3
# connections with --batch-rows PAR_BATCH; --jobs 2 with the batches it cuts
# from the file size; --fast; and psql \copy of the same file, the reference.
say "parallel loads on users: $PAR_N rows, --jobs 1, 2, 3, --fast, psql (at ${SECONDS} s)"
PAR_METHODS=(par-j1 par-j2 par-j3 par-j2-default par-fast par-psql)
rounds users "$EXP_RUNS" "${PAR_METHODS[@]}"

# --jobs 2 without a batch size (about four batches per job, from the file
# size) against one job in one COPY, on orders.
say "--jobs 2 with default batches against one job on orders (at ${SECONDS} s)"
rounds orders "$EXP_RUNS" jobs-one jobs-two

"${PSQL[@]}" -c "TRUNCATE orders, posts, users"

# ---------------------------------------------------------------- pgrec speed
# JSON lines to COPY text for the orders shape, to /dev/null, on one core.
if [[ -n $HAVE_PGREC ]]; then
	for ((run = 0; run <= RUNS; run++)); do
		t0=$EPOCHREALTIME
		"$PGREC" -q --with-ids orders <"$DATA/orders.jsonl" >/dev/null
		t1=$EPOCHREALTIME
		record_run convert pgrec "$run" "$(elapsed "$t0" "$t1")" "${NROWS[orders]}" \
			"${TEXT_BYTES[orders]}" - -
		say "pgrec: ${NROWS[orders]} records, run $run: $(elapsed "$t0" "$t1") s"
	done
fi

# ---------------------------------------------------------------- generation
# pggen alone (to /dev/null) against the server writing the same rows with
# COPY (SELECT … generate_series …) TO STDOUT, a warm-up and $RUNS timed runs.
GEN_N=$((ORDERS_N * 5))
say "generation: $GEN_N orders rows (at ${SECONDS} s)"
for ((run = 0; run <= RUNS; run++)); do
	t0=$EPOCHREALTIME
	"$PGGEN" -q --preset orders -n "$GEN_N" >/dev/null
	t1=$EPOCHREALTIME
	psql -XAtq -v ON_ERROR_STOP=1 -c "COPY ($(orders_select "$GEN_N")) TO STDOUT" >/dev/null
	t2=$EPOCHREALTIME
	record_run generate pggen "$run" "$(elapsed "$t0" "$t1")" "$GEN_N" - - -
	record_run generate server "$run" "$(elapsed "$t1" "$t2")" "$GEN_N" - - -
	say "generate $GEN_N orders rows, run $run: pggen $(elapsed "$t0" "$t1") s, server $(elapsed "$t1" "$t2") s"
done

# ---------------------------------------------------------------- 10M rows
if ((BIG_N > 0)); then
	say "loading $BIG_N orders rows through a pipe (pggen | pgcopy)"
	"${PSQL[@]}" -c "TRUNCATE orders" -c "CHECKPOINT"
	rm -f "$STATS"
	t0=$EPOCHREALTIME
	"$PGGEN" -q --preset orders -n "$BIG_N" | "$PGCOPY" -q --stats "$STATS" orders
	t1=$EPOCHREALTIME
	big_secs=$(elapsed "$t0" "$t1")
	big_rss=$(json_num peak_rss_kib "$STATS")
	big_rows=$(json_num rows "$STATS")
	[[ -n $big_rss && $big_rows == "$BIG_N" ]] ||
		die "10M load: unexpected --stats: $(cat "$STATS")"
	record_run stream pggen-pgcopy 1 "$big_secs" "$BIG_N" - "$big_rss" -
	say "10M rows: ${big_secs} s, pgcopy peak RSS ${big_rss} KiB"
	"${PSQL[@]}" -c "TRUNCATE orders"
fi

# ---------------------------------------------------------------- kill -9
# kill -9 at random points of a --fast --resume-key load of users (during the
# load and during the index rebuild), then the same command: the table must
# equal the input and every index and constraint be back (bench/kill_check.sh).
KILL_N=$([[ $MODE == full ]] && echo 2000000 || echo 200000)
say "kill -9 during --fast --resume-key loads of $KILL_N users rows (at ${SECONDS} s)"
kill_line=$(PGCOPY=$PGCOPY PGGEN=$PGGEN "$ROOT/bench/kill_check.sh" "$KILL_N" "$DATA") ||
	say "the kill check failed: $kill_line"
say "$kill_line"
record_meta kill_check "${kill_line#kill_check: }"

# ---------------------------------------------------------------- routed loads
# A table partitioned over three more durable servers (postgres_fdw):
# pgcopy's routed load against one local table and against the COPY
# streamed through the parent; placement checks and a kill -9 check
# (bench/routed.sh).
ROUTED_N=$([[ $MODE == full ]] && echo 1000000 || echo 100000)
say "routed loads of $ROUTED_N orders rows over three shards (at ${SECONDS} s)"
PGCOPY=$PGCOPY PGGEN=$PGGEN PGSANDBOX=$PGSANDBOX RUNS=$RUNS "$ROOT/bench/routed.sh" "$ROUTED_N" "$DATA" >>"$RESULTS" ||
	die "the routed-load bench failed"

# ---------------------------------------------------------------- machine
record_meta commit "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
record_meta nproc "$(nproc)"
record_meta cpu "$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo | head -n 1)"
record_meta mem_gib "$(free -g | awk '/^Mem:/ { print $2 }')"
record_meta kernel "$(uname -srm)"
record_meta disk "$(df -h "$DATA" | awk 'NR == 2 { print $1 ", " $2 " (" $5 " used)" }')"
record_meta server_version "$(psql -XAtq -c "SHOW server_version")"
record_meta settings "$(psql -XAtq -F ' = ' -c "SELECT name, current_setting(name)
	FROM pg_settings
	WHERE name IN ('fsync', 'synchronous_commit', 'wal_level', 'full_page_writes',
	               'shared_buffers', 'max_wal_size', 'checkpoint_timeout')
	ORDER BY name" | paste -sd ',' | sed 's/,/, /g')"
record_meta toast_default "$(psql -XAtq -c "SHOW default_toast_compression")"
record_meta psql_version "$(psql --version | head -n 1)"
record_meta pgcopy_version "$("$PGCOPY" --version 2>/dev/null | head -n 1 || true)"
record_meta have_pgrec "$HAVE_PGREC"
record_meta pgrec_path "${PGREC#"$ROOT"/}"
record_meta python_orm "$(/usr/bin/python3 -c 'import sqlalchemy, psycopg2' 2>/dev/null && echo 1 || echo 0)"
record_meta date "$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
record_meta elapsed_s "$SECONDS"

# ---------------------------------------------------------------- results
# Put in place only now, so that a failed run leaves the last good results.
mkdir -p "$(dirname "$RESULTS_OUT")"
TMPOUT=$RESULTS_OUT.tmp.$$
cp "$RESULTS" "$TMPOUT"
mv -f "$TMPOUT" "$RESULTS_OUT"
TMPOUT=""
say "wrote the results to ${RESULTS_OUT#"$ROOT"/}; bench/render.py turns them into docs/benchmarks.md"
