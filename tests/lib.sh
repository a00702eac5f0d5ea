# Helpers for the end-to-end tests. Each test function runs under
# `bash -eu -o pipefail` in its own directory ($TEST_DIR, the cwd) with
# PGDATABASE set to a database of its own on the shared test cluster.

# fail MESSAGE: ends the test as failed.
fail() { echo "FAILED: $*" >&2; exit 1; }

# skip REASON: ends the test as skipped.
skip() { echo "$*"; exit 77; }

# sql QUERY: runs QUERY, prints unaligned tuples-only output.
sql() { psql -XAtq -v ON_ERROR_STOP=1 -c "$1"; }

# require_lz4: skips the test when the server was built without lz4 (the
# upstream builds of 14-18 are): its default_toast_compression does not
# offer lz4, and a load with --toast-compression lz4 is refused.
require_lz4() {
  local methods
  methods=$(sql "SELECT array_to_string(enumvals, ', ') FROM pg_settings WHERE name = 'default_toast_compression'")
  [[ ", $methods, " == *", lz4, "* ]] || skip "the server has no lz4 (TOAST compression methods: $methods)"
}

# server_major: the major of the server the test talks to (e.g. 18).
server_major() { echo $(( $(sql "SHOW server_version_num") / 10000 )); }

# assert_eq EXPECTED ACTUAL [WHAT]
assert_eq() {
  [ "$1" == "$2" ] || fail "${3:-value}: expected [$1], got [$2]"
}

# assert_contains HAYSTACK NEEDLE [WHAT]
assert_contains() {
  [[ $1 == *"$2"* ]] || fail "${3:-text} does not contain [$2]: [$1]"
}

# assert_not_contains HAYSTACK NEEDLE [WHAT]
assert_not_contains() {
  [[ $1 != *"$2"* ]] || fail "${3:-text} contains [$2]: [$1]"
}

# assert_same_file A B: byte comparison.
assert_same_file() {
  cmp -s "$1" "$2" || fail "$1 and $2 differ: $(cmp "$1" "$2" 2>&1 | head -n 1)"
}

# run EXPECTED_STATUS CMD...: runs CMD with stdout to ./out and stderr to
# ./err, and fails unless it exits with EXPECTED_STATUS. The output stays in
# $out and $err.
run() {
  local expected=$1 status=0
  shift
  "$@" >out 2>err || status=$?
  out=$(cat out)
  err=$(cat err)
  if [ "$status" != "$expected" ]; then
    echo "--- stdout:"; cat out; echo "--- stderr:"; cat err
    fail "'$*' exited with $status, expected $expected"
  fi
}

# rss_bound KIB: a bound on a program's peak RSS, three times looser under
# make asan, whose shadow memory adds to it.
rss_bound() { echo $(( ${PGPIPE_SANITIZED:+3 *} $1 )); }

# Under make asan, freed memory waits in a quarantine of 256 MB before reuse,
# which no bound on a program's own use survives: the tests run with an 8 MB
# one, which still catches a use soon after a free.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8

# table_count TABLE: number of rows.
table_count() { sql "SELECT count(*) FROM $1"; }

# export_table TABLE FORMAT FILE: COPY TABLE TO STDOUT in FORMAT into FILE.
export_table() { psql -XAtq -v ON_ERROR_STOP=1 -c "COPY $1 TO STDOUT (FORMAT $2)" >"$3"; }

# no_backend_in_transaction: fails if any backend of this database is left
# idle in a transaction (a COPY that was not rolled back).
no_backend_in_transaction() {
  local n
  n=$(sql "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
           AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'")
  assert_eq 0 "$n" "backends idle in transaction"
}

# orders: creates the orders table of pggen's preset.
orders() { pggen --ddl --preset orders | psql -Xq -v ON_ERROR_STOP=1; }

# sorted_md5 TABLE: a fingerprint of the table's rows, order aside.
sorted_md5() { psql -XAtq -c "COPY (SELECT * FROM $1 ORDER BY 1) TO STDOUT" | md5sum | cut -d' ' -f1; }

# expected_md5 FILE [FORMAT]: the fingerprint the orders table would have
# after a plain load of FILE (the server prints values in its own way:
# 1.99 as 1.9900).
expected_md5() {
  sql "CREATE TABLE reference (LIKE orders)"
  pgcopy -q -F "${2:-text}" reference "$1"
  sorted_md5 reference
  sql "DROP TABLE reference"
}

# load_through_terminations N TABLE CMD...: runs the load CMD (stderr to
# ./err) while a lock on TABLE holds its COPY, terminates its backends N
# times, then lets it go; fails unless it retried and ended with status 0.
load_through_terminations() {
  local kills=$1 table=$2 status=0
  shift 2
  lock_table "$table" SHARE # what a COPY's ROW EXCLUSIVE waits for
  "$@" 0<&0 2>err & # keep stdin: a background command would get /dev/null
  local loader=$!
  terminate_loads "$kills"
  unlock_table
  wait "$loader" || status=$?
  assert_eq 0 "$status" "pgcopy status: $(cat err)"
  grep -q "retrying in" err || fail "no retry happened: $(cat err)"
}

# terminate_loads N: N times, terminates the backends of the pgcopy runs in
# this database (what a server restart does to them), each time once a COPY
# of pgcopy that was not terminated before is running.
terminate_loads() {
  local copies terminated=0 pids done_pids=0
  copies="datname = current_database() AND application_name = 'pgcopy' AND state = 'active' AND query LIKE 'COPY%'"
  while [ "$terminated" -lt "$1" ]; do
    wait_for "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE $copies AND pid NOT IN ($done_pids))" \
      "a COPY of pgcopy to terminate ($((terminated + 1)) of $1)"
    # The fence (OFFSET 0) keeps pg_terminate_backend off rows the filter drops.
    pids=$(sql "SELECT string_agg(pid::text, ',') FROM (SELECT pid FROM pg_stat_activity
                WHERE $copies AND pid NOT IN ($done_pids) OFFSET 0) s WHERE pg_terminate_backend(pid)")
    [ -n "$pids" ] || continue # its COPY ended in between
    done_pids+=",$pids"
    terminated=$((terminated + 1))
  done
}

# users_tables: roles and users of pggen's presets (keys, a unique username,
# an email index, a foreign key), users with a CHECK added; ten roles loaded.
users_tables() {
  pggen --ddl --preset roles | psql -Xq -v ON_ERROR_STOP=1
  pggen --ddl --preset users | psql -Xq -v ON_ERROR_STOP=1
  sql "ALTER TABLE users ADD CONSTRAINT sane_id CHECK (id > 0)"
  pggen -q --preset roles -n 10 | pgcopy -q roles
}

# schema_of TABLE: its indexes and constraints, as definitions (and whether
# each is valid), sorted.
schema_of() {
  sql "SELECT string_agg(d, E'\n' ORDER BY d) FROM (
         SELECT pg_get_indexdef(indexrelid) || ' ' || indisvalid AS d FROM pg_index WHERE indrelid = '$1'::regclass
         UNION ALL SELECT conname || ' ' || pg_get_constraintdef(oid) || ' ' || convalidated
           FROM pg_constraint WHERE conrelid = '$1'::regclass) s"
}

# kill_once_rows_in TABLE PID: waits until TABLE has a committed row, then
# kills PID with SIGKILL and reaps it: a load killed part way.
kill_once_rows_in() {
  wait_for "SELECT EXISTS (SELECT FROM $1)" "a committed row in $1"
  kill -9 "$2"
  wait "$2" 2>/dev/null || true
}

# catalog_fingerprint TABLE: a stable text of all the catalog says about
# TABLE, its indexes and its constraints (replica identity, tablespaces,
# owners, the cluster mark, deferrability, validity, NO INHERIT, comments,
# statistics targets, NOT NULL), by name, never by OID: a deferring load
# must give it back unchanged. A default statistics target is -1 up to 16
# and NULL from 17 on: both print as -1. NULLS NOT DISTINCT came in 15.
catalog_fingerprint() {
  sql "WITH t AS (SELECT '$1'::regclass AS rel),
       space AS (SELECT s.oid, s.spcname FROM pg_tablespace s)
     SELECT string_agg(line, E'\n' ORDER BY line) FROM (
       SELECT 'table ' || c.relname || ' replident=' || c.relreplident::text || ' owner=' || pg_get_userbyid(c.relowner)
              || ' tablespace=' || coalesce((SELECT spcname FROM space WHERE oid = c.reltablespace), '-')
              || ' comment=' || coalesce(obj_description(c.oid, 'pg_class'), '-') AS line
         FROM pg_class c, t WHERE c.oid = t.rel
       UNION ALL
       SELECT 'column ' || a.attname || ' notnull=' || a.attnotnull || ' stats=' || coalesce(a.attstattarget, -1)
         FROM pg_attribute a, t WHERE a.attrelid = t.rel AND a.attnum > 0 AND NOT a.attisdropped
       UNION ALL
       SELECT 'index ' || ic.relname || ' owner=' || pg_get_userbyid(ic.relowner)
              || ' tablespace=' || coalesce((SELECT spcname FROM space WHERE oid = ic.reltablespace), '-')
              || ' unique=' || i.indisunique || ' primary=' || i.indisprimary
              || ' nullsnotdistinct=' || coalesce(to_jsonb(i) ->> 'indnullsnotdistinct', '-') || ' immediate=' || i.indimmediate
              || ' clustered=' || i.indisclustered || ' replident=' || i.indisreplident
              || ' valid=' || i.indisvalid || ' ready=' || i.indisready || ' live=' || i.indislive
              || ' exclusion=' || i.indisexclusion || ' natts=' || i.indnatts || '/' || i.indnkeyatts
              || ' indkey=' || i.indkey::text || ' indclass=' || i.indclass::text
              || ' indcollation=' || i.indcollation::text || ' indoption=' || i.indoption::text
              || ' exprs=' || coalesce(pg_get_expr(i.indexprs, i.indrelid), '-')
              || ' pred=' || coalesce(pg_get_expr(i.indpred, i.indrelid), '-')
              || ' options=' || coalesce(ic.reloptions::text, '-')
              || ' def=' || pg_get_indexdef(i.indexrelid)
              || ' comment=' || coalesce(obj_description(i.indexrelid, 'pg_class'), '-')
              || ' stats=' || (SELECT string_agg(a.attnum || ':' || coalesce(a.attstattarget, -1), ',' ORDER BY a.attnum)
                                 FROM pg_attribute a WHERE a.attrelid = i.indexrelid)
         FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid, t WHERE i.indrelid = t.rel
       UNION ALL
       SELECT 'constraint ' || k.conname || ' type=' || k.contype::text || ' deferrable=' || k.condeferrable
              || ' deferred=' || k.condeferred || ' validated=' || k.convalidated
              || ' noinherit=' || k.connoinherit || ' local=' || k.conislocal || ' inherited=' || k.coninhcount
              || ' index=' || coalesce((SELECT relname FROM pg_class WHERE oid = k.conindid), '-')
              || ' def=' || pg_get_constraintdef(k.oid)
              || ' comment=' || coalesce(obj_description(k.oid, 'pg_constraint'), '-')
         FROM pg_constraint k, t WHERE k.conrelid = t.rel) s"
}

# wait_until WHAT CMD...: runs CMD every 50 ms until it succeeds; fails naming
# WHAT once $WAIT_LIMIT seconds (60) have passed. Tests wait for the state
# they need this way, never for a fixed time: a busy machine only waits longer.
wait_until() {
  local what=$1 limit=${WAIT_LIMIT:-60}
  local deadline=$((SECONDS + limit))
  shift
  wait_last=""
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || fail "waited ${limit}s for ${what}${wait_last:+ (last answer: $wait_last)}"
    sleep 0.05
  done
}

# wait_for QUERY WHAT [LIMIT]: waits (wait_until) until QUERY returns t. A
# table that does not exist yet counts as not yet; any other error fails.
wait_for() { WAIT_LIMIT=${3:-${WAIT_LIMIT:-60}} wait_until "$2" query_is_true "$1"; }

# query_is_true QUERY: whether QUERY returns t; its answer stays in $wait_last.
query_is_true() {
  wait_last=$(sql "$1" 2>&1) && [ "$wait_last" = t ] && return 0
  [[ $wait_last != *ERROR:* || $wait_last == *"does not exist"* ]] || fail "query failed: $wait_last"
  return 1
}

# wait_for_copy [ROWS]: waits until a COPY into this database has taken ROWS
# rows (0: has started).
wait_for_copy() {
  wait_for "SELECT EXISTS (SELECT FROM pg_stat_progress_copy WHERE datname = current_database()
            AND tuples_processed >= ${1:-0})" "a COPY ${1:+that has taken $1 rows }in this database"
}

# reading_a_pipe PID: whether a thread of PID sleeps in read() on a pipe or
# fifo (its input ran dry, it waits for more).
reading_a_pipe() { grep -qs 'pipe_read$' /proc/"$1"/task/*/wchan; }

# lock_table TABLE MODE: a session of its own takes the lock and holds it until
# unlock_table; returns once the lock is granted. A statement of a load that
# needs a conflicting lock waits there, as long as the test needs it to.
lock_table() {
  mkfifo lock_session.sql
  psql -Xq -v ON_ERROR_STOP=1 <lock_session.sql >lock_session.out 2>&1 &
  lock_holder=$!
  exec 3>lock_session.sql
  echo "BEGIN; LOCK TABLE $1 IN $2 MODE;" >&3
  wait_for "SELECT EXISTS (SELECT FROM pg_locks WHERE relation = '$1'::regclass AND granted
            AND pid <> pg_backend_pid() AND mode = replace(initcap('$2'), ' ', '') || 'Lock')" "the lock of $1"
}

# unlock_table: ends lock_table's session (its transaction rolls back). It
# quits rather than waiting for the end of its input: a program started
# meanwhile holds that open.
unlock_table() {
  printf 'ROLLBACK;\n\\q\n' >&3
  exec 3>&-
  wait "$lock_holder" || fail "the locking session failed: $(cat lock_session.out)"
  rm -f lock_session.sql
}
