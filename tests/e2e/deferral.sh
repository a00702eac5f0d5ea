# Deferred indexes and constraints: whatever ends a deferring load, the table
# ends with the load's rows in and everything back, or the load's rows gone
# and everything back; what comes back is what the catalog said before
# (catalog_fingerprint in tests/lib.sh).

# f5_input N DUP: rows 1..N of f5, then the id DUP a second time.
f5_input() { seq 1 "$1" | awk '{ print $1 "\tname " $1 "\t" $1 % 7 }'; printf '%s\tagain\t0\n' "$2"; }

# wait_for SQL: polls (up to 60 s) until SQL prints t.
wait_for() {
  for _ in $(seq 1 6000); do
    [ "$(sql "$1")" = t ] && return 0
    sleep 0.01
  done
  fail "waited 60 s for: $1"
}

# kill_when_committed PID FIFO_FD: once a batch of the load PID has committed
# (its record in pgpipe.deferred_loads), kills it with SIGKILL and reaps it.
kill_when_committed() {
  wait_for "SELECT to_regclass('pgpipe.deferred_loads') IS NOT NULL
            AND EXISTS (SELECT 1 FROM pgpipe.deferred_loads)"
  kill -9 "$1"
  wait "$1" 2>/dev/null || true
}

# start_stalled_load FILE ROWS CMD...: runs CMD reading FILE's first ROWS lines
# from a FIFO that stays open: the load commits its first batches, then waits
# for input that never comes. Sets $loader (its pid) and fd 3 (the FIFO's writer).
start_stalled_load() {
  local file=$1 rows=$2
  shift 2
  rm -f in.fifo
  mkfifo in.fifo
  "$@" in.fifo 2>err &
  loader=$!
  exec 3>in.fifo
  head -n "$rows" "$file" >&3
}

test_a_duplicate_with_reject_file_deletes_the_rows_and_puts_the_key_back() {
  sql "CREATE TABLE f5 (id int PRIMARY KEY, name text, g int)"
  local before
  before=$(catalog_fingerprint f5)
  f5_input 3000 5 >d.tsv
  run 2 pgcopy --defer-indexes --reject-file r --batch-rows 1000 f5 d.tsv
  assert_contains "$err" 'could not create unique index "f5_pkey"'
  assert_contains "$err" "Key (id)=(5) is duplicated."
  assert_contains "$err" "the 3,001 rows this load committed were deleted, and every index and constraint of f5 is back"
  assert_not_contains "$err" "rerun"
  assert_eq 0 "$(table_count f5)" "rows left"
  assert_eq "$before" "$(catalog_fingerprint f5)" "the catalog after the failure"
  assert_eq 0 "$(sql "SELECT count(*) FROM pgpipe.deferred")" "records left"
  assert_eq 0 "$(sql "SELECT count(*) FROM pgpipe.deferred_loads")" "loads left"
  # The rows that were there before stay.
  sql "INSERT INTO f5 VALUES (-1, 'old', 0)"
  run 2 pgcopy --defer-indexes --reject-file r --batch-rows 1000 --jobs 2 f5 d.tsv
  assert_eq "-1" "$(sql "SELECT string_agg(id::text, ',') FROM f5")"
  assert_eq "$before" "$(catalog_fingerprint f5)" "the catalog after the failure with --jobs 2"
}

test_rejected_rows_and_a_clean_rebuild_keep_every_loaded_row() {
  sql "CREATE TABLE f6 (id int PRIMARY KEY, name text, g int CHECK (g >= 0))"
  local before
  before=$(catalog_fingerprint f6)
  { seq 1 3000 | awk '{ print $1 "\tname " $1 "\t" $1 % 7 }'; printf '3001\tbad\tnot a number\n'; } >d.tsv
  run 3 pgcopy --defer-indexes --defer-constraints --reject-file r --batch-rows 1000 f6 d.tsv
  assert_contains "$err" "1 row rejected"
  assert_eq 3000 "$(table_count f6)"
  assert_eq "$before" "$(catalog_fingerprint f6)"
}

test_foreign_key_and_check_failures_at_the_rebuild_put_everything_back() {
  sql "CREATE TABLE parents (id int PRIMARY KEY)"
  sql "INSERT INTO parents SELECT generate_series(1, 10)"
  sql "CREATE TABLE kids (id int PRIMARY KEY, parent int REFERENCES parents, n int CHECK (n < 100))"
  sql "INSERT INTO kids VALUES (0, 1, 0)"
  local before
  before=$(catalog_fingerprint kids)
  seq 1 3000 | awk '{ print $1 "\t" ($1 % 10) + 1 "\t" $1 % 50 }' >good.tsv
  { cat good.tsv; printf '3001\t11\t1\n'; } >fk.tsv
  { cat good.tsv; printf '3001\t1\t100\n'; } >check.tsv
  for bad in fk check; do
    for how in "" "--reject-file r"; do
      # shellcheck disable=SC2086
      run 2 pgcopy --defer-indexes --defer-constraints $how --batch-rows 1000 kids $bad.tsv
      assert_contains "$err" "the 3,001 rows this load committed were deleted, and every index and constraint of kids is back"
      assert_eq 1 "$(table_count kids)" "rows after the $bad failure ($how)"
      assert_eq "$before" "$(catalog_fingerprint kids)" "the catalog after the $bad failure ($how)"
    done
  done
  assert_contains "$(cat check.tsv | tail -n 1)" "100"
  run 0 pgcopy --defer-indexes --defer-constraints --batch-rows 1000 kids good.tsv
  assert_eq 3001 "$(table_count kids)"
  assert_eq "$before" "$(catalog_fingerprint kids)" "the catalog after the rerun"
}

test_restore_after_a_kill_deletes_rows_that_break_a_key_and_says_so() {
  sql "CREATE TABLE f5 (id int PRIMARY KEY, name text, g int)"
  local before
  before=$(catalog_fingerprint f5)
  sql "INSERT INTO f5 VALUES (-1, 'old', 0)"
  # The duplicate is in the first batch, which commits before the kill.
  { printf '5\tfirst\t0\n'; f5_input 3000 5; } >d.tsv
  start_stalled_load d.tsv 1500 pgcopy --defer-indexes --batch-rows 1000 f5
  kill_when_committed "$loader"
  exec 3>&-
  assert_eq 1001 "$(table_count f5)" "rows of the committed batch and the one from before"
  run 2 pgcopy --restore f5
  assert_contains "$err" 'could not create unique index "f5_pkey"'
  assert_contains "$err" "Key (id)=(5) is duplicated."
  assert_contains "$err" "restored f5 without the interrupted load's rows: 1,000 rows deleted, and every index and constraint is back"
  assert_eq "-1" "$(sql "SELECT string_agg(id::text, ',') FROM f5")"
  assert_eq "$before" "$(catalog_fingerprint f5)"
  run 0 pgcopy --restore f5
  assert_contains "$err" "nothing to put back"
}

test_restore_after_a_kill_keeps_rows_that_fit() {
  sql "CREATE TABLE f5 (id int PRIMARY KEY, name text, g int)"
  local before
  before=$(catalog_fingerprint f5)
  f5_input 3000 5 >d.tsv
  start_stalled_load d.tsv 1500 pgcopy --defer-indexes --batch-rows 1000 f5
  kill_when_committed "$loader"
  exec 3>&-
  run 0 pgcopy --restore f5
  assert_contains "$err" "restored f5 with the interrupted load's rows: put back 2 indexes and constraints"
  assert_eq 1000 "$(table_count f5)"
  assert_eq "$before" "$(catalog_fingerprint f5)"
}
