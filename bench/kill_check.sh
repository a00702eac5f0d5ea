#!/usr/bin/env bash
# bench/kill_check.sh: kill -9 at random points of a `pgcopy --fast
# --resume-key` load (during the load and during the index rebuild), then
# the same command: the table must equal the input, and every index and
# constraint must be back and valid, as on a fresh table.
#
#   PGCOPY=build/bin/pgcopy PGGEN=build/bin/pggen bench/kill_check.sh ROWS DIR
#
# Connects with the PG* variables (make bench runs it on its durable
# sandbox); creates and drops its own schemas (kc, fresh). DIR holds
# the input file. Prints one line per kill and a last line
#   kill_check: PASS|FAIL ROWS rows, K kills (L during the load, R during the rebuild)
# and exits 0 on PASS, 1 on FAIL.
set -euo pipefail
ROWS=${1:?ROWS}
DIR=${2:?DIR}
PGCOPY=${PGCOPY:?PGCOPY}
PGGEN=${PGGEN:?PGGEN}
KILLS=${KILLS:-4}
PSQL=(psql -X -q -v ON_ERROR_STOP=1)
sql() { psql -XAtq -v ON_ERROR_STOP=1 -c "$1"; }
say() { echo "kill_check: $*" >&2; }

# The users and roles of pggen's presets, in a schema of their own.
make_tables() {
	"${PSQL[@]}" -c "SET client_min_messages = warning" -c "DROP SCHEMA IF EXISTS $1 CASCADE" -c "CREATE SCHEMA $1"
	{ echo "SET search_path = $1;"; "$PGGEN" --ddl --preset roles; "$PGGEN" --ddl --preset users; } | "${PSQL[@]}"
	"$PGGEN" -q --preset roles -n 10 | "$PGCOPY" -q "$1.roles"
}

# The definitions of a table's indexes and constraints, its schema taken out.
schema_of() {
	sql "SET search_path = $1; SELECT string_agg(d, E'\n' ORDER BY d) FROM (
	       SELECT pg_get_indexdef(indexrelid) || ' valid=' || indisvalid AS d FROM pg_index WHERE indrelid = 'users'::regclass
	       UNION ALL SELECT conname || ' ' || pg_get_constraintdef(oid) || ' validated=' || convalidated
	         FROM pg_constraint WHERE conrelid = 'users'::regclass) s" | sed "s/ $1\./ /g"
}

make_tables kc
make_tables fresh
"$PGGEN" -q --preset users -n "$ROWS" >"$DIR/kc_users.tsv"
load=("$PGCOPY" -q --fast --resume-key kill-check kc.users "$DIR/kc_users.tsv")
sql "DELETE FROM pgpipe.load_progress WHERE key = 'kill-check'" 2>/dev/null || true

during_load=0 during_rebuild=0
for ((k = 1; k <= KILLS; k++)); do
	"${load[@]}" 2>"$DIR/kc.err" &
	pid=$!
	if ((k % 2 == 0)); then
		# Into the index rebuild: wait until a CREATE INDEX runs, then a random moment more.
		for _ in $(seq 1 3000); do
			[[ $(sql "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'CREATE%INDEX%kc.users%'") != 0 ]] && break
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.01
		done
		sleep "0.$((RANDOM % 30))"
		where=rebuild
	else
		sleep "$((RANDOM % 3)).$((RANDOM % 10))"
		where=load
	fi
	if kill -9 "$pid" 2>/dev/null; then
		wait "$pid" 2>/dev/null || true
		[[ $where == load ]] && during_load=$((during_load + 1)) || during_rebuild=$((during_rebuild + 1))
		say "kill $k ($where): $(sql "SELECT count(*) FROM kc.users") rows in the table," \
			"$(sql "SELECT count(*) FROM pgpipe.deferred WHERE target = 'kc.users'") statements to put back"
	else
		wait "$pid" || true
		say "kill $k ($where): the load had finished already"
	fi
done
"${load[@]}" 2>"$DIR/kc.err" || { say "the rerun failed: $(cat "$DIR/kc.err")"; exit 1; }

ok=1
want=$(sort -n "$DIR/kc_users.tsv" | md5sum)
got=$(psql -XAtq -c "COPY (SELECT * FROM kc.users ORDER BY id) TO STDOUT" | md5sum)
[[ $want == "$got" ]] || { say "the table differs from the input"; ok=0; }
[[ $(schema_of kc) == "$(schema_of fresh)" ]] ||
	{ say "indexes or constraints differ from a fresh table:"; diff <(schema_of kc) <(schema_of fresh) >&2 || true; ok=0; }
[[ -n $(schema_of kc) ]] || { say "no index or constraint to compare"; ok=0; }
"${PSQL[@]}" -c "SET client_min_messages = warning" -c "DROP SCHEMA kc CASCADE" -c "DROP SCHEMA fresh CASCADE"
rm -f "$DIR/kc_users.tsv" "$DIR/kc.err"
verdict=$([[ $ok == 1 ]] && echo PASS || echo FAIL)
echo "kill_check: $verdict $ROWS rows, $KILLS kills ($during_load during the load, $during_rebuild during the rebuild)"
[[ $ok == 1 ]]
