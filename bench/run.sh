#!/usr/bin/env bash
# bench/run.sh: the `make bench` benchmark.
#
#   BUILD=build QUICK=1 bench/run.sh     (what `make bench QUICK=1` runs)
#
# Starts a throwaway cluster with pgsandbox, has the server write the input
# files (orders and posts, as COPY text, COPY binary and zstd'd text), then
# for every dataset and load method does one warm-up load and three timed
# loads (TRUNCATE + CHECKPOINT before each, untimed) and reports the median:
#
#   server COPY FROM 'file'   psql \copy from stdin   pgcopy text | binary | zstd
#
# The results are printed and written to docs/benchmarks.md.  In full mode it
# also loads 10,000,000 orders rows through a pipe to show that pgcopy's
# memory stays flat.  QUICK=1 uses smaller datasets and skips the 10M run.
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
OUT=$ROOT/docs/benchmarks.md
RUNS=3

if [[ $QUICK == 1 ]]; then
	MODE=quick ORDERS_N=200000 POSTS_N=2000 BIG_N=0
else
	MODE=full ORDERS_N=1000000 POSTS_N=10000 BIG_N=10000000
fi

die() { echo "bench: $*" >&2; exit 1; }
say() { echo "bench: $*" >&2; }

for p in "$PGCOPY" "$PGSANDBOX" "$PGGEN"; do
	[[ -x $p ]] || die "$p not found; run make first (or set BUILD)"
done
for c in psql zstd awk sort; do
	command -v "$c" >/dev/null || die "$c not found in PATH"
done

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

DATASETS=(orders posts)
declare -A NROWS=([orders]=$ORDERS_N [posts]=$POSTS_N)
declare -A TEXT_BYTES BIN_BYTES ZST_BYTES

for ds in "${DATASETS[@]}"; do
	q=$("${ds}_select" "${NROWS[$ds]}")
	say "writing $ds: ${NROWS[$ds]} rows (text, binary, zstd text)"
	psql -XAtq -v ON_ERROR_STOP=1 -c "COPY ($q) TO STDOUT (FORMAT text)" >"$DATA/$ds.txt"
	psql -XAtq -v ON_ERROR_STOP=1 -c "COPY ($q) TO STDOUT (FORMAT binary)" >"$DATA/$ds.bin"
	zstd -q -3 -c "$DATA/$ds.txt" >"$DATA/$ds.txt.zst"
	chmod 644 "$DATA/$ds.txt" "$DATA/$ds.bin" "$DATA/$ds.txt.zst"
	TEXT_BYTES[$ds]=$(wc -c <"$DATA/$ds.txt")
	BIN_BYTES[$ds]=$(wc -c <"$DATA/$ds.bin")
	ZST_BYTES[$ds]=$(wc -c <"$DATA/$ds.txt.zst")
	lines=$(wc -l <"$DATA/$ds.txt")
	((lines == NROWS[$ds])) || die "$ds.txt has $lines lines, expected ${NROWS[$ds]}"
done

# ---------------------------------------------------------------- loads
METHODS=(server psql pgcopy-text pgcopy-binary pgcopy-zstd pggen-pgcopy)
declare -A LABEL=(
	[server]="server COPY FROM file"
	[psql]="psql \\copy (text)"
	[pgcopy-text]="pgcopy text"
	[pgcopy-binary]="pgcopy binary"
	[pgcopy-zstd]="pgcopy zstd text"
	[pggen-pgcopy]="pggen \\| pgcopy (text)"
)

STATS=$WORK/stats.json

# load METHOD DATASET: one load into the (empty) table DATASET.
load() {
	local m=$1 ds=$2
	case $m in
	server) "${PSQL[@]}" -c "COPY $ds FROM $(lit "$DATA/$ds.txt")" ;;
	psql) "${PSQL[@]}" -c "\\copy $ds from stdin" <"$DATA/$ds.txt" ;;
	pgcopy-text) "$PGCOPY" -q --stats "$STATS" "$ds" <"$DATA/$ds.txt" ;;
	pgcopy-binary) "$PGCOPY" -q -F binary --stats "$STATS" "$ds" <"$DATA/$ds.bin" ;;
	pgcopy-zstd) "$PGCOPY" -q --stats "$STATS" "$ds" <"$DATA/$ds.txt.zst" ;;
	# The presets write exactly the rows of the files above (a test checks orders).
	pggen-pgcopy) "$PGGEN" -q --preset "$ds" -n "${NROWS[$ds]}" | "$PGCOPY" -q --stats "$STATS" "$ds" ;;
	esac
}

# json_num KEY FILE: a numeric field of pgcopy's --stats JSON.
json_num() {
	sed -n "s/.*\"$1\": *\\([0-9.eE+-]*\\).*/\\1/p" "$2" | head -n 1
}

# elapsed T0 T1: seconds between two EPOCHREALTIME values.
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", b - a }'; }

RESULTS=$WORK/results.tsv      # dataset method run seconds rss_kib
: >"$RESULTS"

# Rounds interleave the methods (warm-up round, then round 1, 2, 3), so that
# a slow patch on a shared machine hits all methods alike rather than one.
for ds in "${DATASETS[@]}"; do
	for ((run = 0; run <= RUNS; run++)); do    # run 0 is the warm-up
		for m in "${METHODS[@]}"; do
			"${PSQL[@]}" -c "TRUNCATE $ds" -c "CHECKPOINT"
			rm -f "$STATS"
			t0=$EPOCHREALTIME
			load "$m" "$ds"
			t1=$EPOCHREALTIME
			secs=$(elapsed "$t0" "$t1")
			n=$(psql -XAtq -v ON_ERROR_STOP=1 -c "SELECT count(*) FROM $ds")
			((n == NROWS[$ds])) || die "$m loaded $n rows into $ds, expected ${NROWS[$ds]}"
			rss=-
			if [[ $m == pgcopy-* || $m == pggen-pgcopy ]]; then
				[[ -s $STATS ]] || die "$m wrote no --stats file"
				rss=$(json_num peak_rss_kib "$STATS")
				srows=$(json_num rows "$STATS")
				[[ -n $rss && $srows == "${NROWS[$ds]}" ]] ||
					die "$m: unexpected --stats: $(cat "$STATS")"
			fi
			tag=$([[ $run == 0 ]] && echo warm-up || echo "run $run")
			printf 'bench: %-7s %-22s %-8s %8.3f s%s\n' "$ds" "${LABEL[$m]}" "$tag" "$secs" \
				"$([[ $rss == - ]] || echo "  peak RSS ${rss} KiB")" >&2
			printf '%s\t%s\t%s\t%s\t%s\n' "$ds" "$m" "$run" "$secs" "$rss" >>"$RESULTS"
		done
	done
done
"${PSQL[@]}" -c "TRUNCATE orders, posts"

# ---------------------------------------------------------------- generation
# pggen alone (to /dev/null) against the server writing the same rows with
# COPY (SELECT … generate_series …) TO STDOUT, median of $RUNS after a warm-up.
GEN_N=$((ORDERS_N * 5))
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
fmt_mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

declare -A MED RATIO
ALL_RSS_KIB=()
TABLE=""
for ds in "${DATASETS[@]}"; do
	psql_med=$(median "$ds" psql)
	for m in "${METHODS[@]}"; do
		med=$(median "$ds" "$m")
		MED[$ds,$m]=$med
		RATIO[$ds,$m]=$(awk -v p="$psql_med" -v t="$med" 'BEGIN { printf "%.4f", p / t }')
		row=$(awk -v n="${NROWS[$ds]}" -v b="${TEXT_BYTES[$ds]}" -v t="$med" \
			-v r="${RATIO[$ds,$m]}" 'BEGIN {
				printf "%.3f | %.0f | %.1f | %.2f×", t, n / t, b / t / 1e6, r }')
		rss=$(peak_rss "$ds" "$m")
		if [[ -n $rss ]]; then
			ALL_RSS_KIB+=("$ds ${LABEL[$m]}:$rss")
			rss_col=$(fmt_mib "$rss")
		else
			rss_col="–"
		fi
		TABLE+="| $ds | ${LABEL[$m]} | $row | $rss_col | $(runs_list "$ds" "$m") |"$'\n'
	done
done
if [[ -n $BIG_RSS ]]; then
	ALL_RSS_KIB+=("orders ${BIG_N} rows via pipe:$BIG_RSS")
fi

LIMIT_KIB=$((16 * 1024))
verdict_speed() {  # DATASET METHOD
	awk -v r="${RATIO[$1,$2]}" 'BEGIN { print (r >= 1.0) ? "PASS" : "FAIL" }'
}

{
	echo "# pgpipe benchmarks"
	echo
	echo "Generated by \`make bench\` ($MODE mode$([[ $MODE == quick ]] && echo ', QUICK=1')) on"
	echo "$(date -u '+%Y-%m-%d %H:%M:%S UTC'), git commit \`$commit\`. Do not edit by hand:"
	echo "run \`make bench\` again to refresh it."
	echo
	echo "- Machine: $(nproc) CPUs ($cpu), ${mem} GiB memory (\`free -g\`)"
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
	echo "time of \`psql \\copy\` divided by the method's time: above 1 the method is"
	echo "faster than psql, below 1 slower. *Server COPY FROM file* reads the text file"
	echo "inside the server with no client in the way: the usual ceiling for text input."
	echo "*pgcopy peak RSS* is the largest"
	echo "\`peak_rss_kib\` pgcopy reported in its \`--stats\` JSON over all runs of that row."
	echo "Timings on a small shared machine vary by several per cent between runs."
	echo
	echo "## Input files"
	echo
	echo "| dataset | rows | text bytes | binary bytes | zstd -3 text bytes |"
	echo "|---|---:|---:|---:|---:|"
	for ds in "${DATASETS[@]}"; do
		echo "| $ds | ${NROWS[$ds]} | ${TEXT_BYTES[$ds]} | ${BIN_BYTES[$ds]} | ${ZST_BYTES[$ds]} |"
	done
	echo
	echo "\`orders(id bigserial primary key, customer_id int, amount numeric(12,4),"
	echo "status varchar(32))\`: customer_id = i % 10000, amount = (i % 500) + 0.99,"
	echo "status 'completed' when i % 3 = 0 else 'pending'. \`posts(id serial primary key,"
	echo "title text, body text, payload text)\`: repeat('title', 1764), repeat('body', 1764),"
	echo "repeat('dummy data', 1764) — about 33 KB per row, TOASTed. The files are written"
	echo "by the server itself (\`COPY (SELECT …) TO STDOUT\`)."
	echo
	echo "## Load times"
	echo
	echo "| dataset | method | median s | rows/s | MB/s (text) | × psql | pgcopy peak RSS MiB | runs (s) |"
	echo "|---|---|---:|---:|---:|---:|---:|---|"
	printf '%s' "$TABLE"
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
	echo "ratio of medians is at least 1.000. In this run the timed runs of one method"
	echo "differed by $spread (slowest / fastest), so a ratio within a few"
	echo "per cent of 1.0 is a tie within noise rather than a real difference."
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
	max_kib=0 worst=""
	for e in "${ALL_RSS_KIB[@]}"; do
		k=${e##*:}
		if ((k > max_kib)); then max_kib=$k worst=${e%:*}; fi
	done
	rss_verdict=$( ((max_kib <= LIMIT_KIB)) && echo PASS || echo FAIL)
	scope="every pgcopy run"
	[[ -n $BIG_RSS ]] && scope+=", the $BIG_N-row pipe included" ||
		scope+=" (quick mode: the 10M-row run was skipped)"
	printf '| pgcopy peak RSS ≤ 16 MiB in %s | %s MiB max (%s) | %s |\n' \
		"$scope" "$(fmt_mib "$max_kib")" "$worst" "$rss_verdict"
} >"$WORK/benchmarks.md"

mkdir -p "$(dirname "$OUT")"
TMPOUT=$OUT.tmp.$$
cp "$WORK/benchmarks.md" "$TMPOUT"
mv -f "$TMPOUT" "$OUT"
TMPOUT=""

cat "$OUT"
say "wrote ${OUT#"$ROOT"/}"
