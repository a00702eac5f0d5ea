# Deferred indexes and constraints: whatever ends a deferring load, the table
# ends with the load's rows in and everything back, or the load's rows gone
# and everything back; what comes back is what the catalog said before
# (catalog_fingerprint in tests/lib.sh).

# f5_input N DUP: rows 1..N of f5, then the id DUP a second time.
f5_input() { seq 1 "$1" | awk '{ print $1 "\tname " $1 "\t" $1 % 7 }'; printf '%s\tagain\t0\n' "$2"; }

# kill_when_committed PID FIFO_FD: once a batch of the load PID has committed
# (its record in pgpipe.deferred_loads), kills it with SIGKILL and reaps it.
kill_when_committed() {
  wait_for "SELECT to_regclass('pgpipe.deferred_loads') IS NOT NULL
            AND EXISTS (SELECT 1 FROM pgpipe.deferred_loads)" "a committed batch of the deferring load"
  kill -9 "$1"
  wait "$1" 2>/dev/null || true
}

# start_stalled_load FILE ROWS CMD...: runs CMD on stream.tsv, a FIFO that
# gives FILE's first ROWS lines and stays open: the load commits its first
# batches, then waits for input that never comes. Sets $loader (its pid) and
# fd 3 (the FIFO's writer). A rerun reads stream.tsv made a copy of FILE.
start_stalled_load() {
  local file=$1 rows=$2
  shift 2
  rm -f stream.tsv
  mkfifo stream.tsv
  "$@" stream.tsv 2>err &
  loader=$!
  exec 3>stream.tsv
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

# rich_table: a table "rich" with every feature a deferring load takes off
# and must put back: a primary key with a fill factor in its own tablespace, a
# deferrable unique constraint, NULLS NOT DISTINCT (from 15), a replica identity index
# with INCLUDE columns, a partial expression index with an opclass and a
# statistics target, a collation and a sort order, a CLUSTER mark, comments,
# foreign keys with actions, MATCH FULL and deferrability, checks NO INHERIT
# and NOT VALID, another owner. Also writes rich.tsv (3000 rows) and sets
# $space (the tablespace, dropped by drop_rich_table).
rich_table() {
  space=ts_$(sql "SELECT oid FROM pg_database WHERE datname = current_database()")
  mkdir -p space
  chown postgres:postgres space
  chmod 700 space
  sql "CREATE TABLESPACE $space LOCATION '$TEST_DIR/space'"
  local nulls_not_distinct="NULLS NOT DISTINCT"
  [ "$(server_major)" -ge 15 ] || nulls_not_distinct=""
  sql "DO \$\$ BEGIN CREATE ROLE deferral_owner; EXCEPTION WHEN duplicate_object THEN NULL; END \$\$"
  psql -Xq -v ON_ERROR_STOP=1 <<SQL
CREATE TABLE parent_ref (id int PRIMARY KEY, code text NOT NULL, UNIQUE (id, code));
INSERT INTO parent_ref SELECT g, 'c' || g FROM generate_series(1, 100) g;
GRANT SELECT, REFERENCES ON parent_ref TO deferral_owner;
CREATE TABLE rich (
  id int NOT NULL, code text NOT NULL, ref int, ref_code text, qty int, name text COLLATE "C", note text,
  CONSTRAINT rich_pkey PRIMARY KEY (id) WITH (fillfactor = 80) USING INDEX TABLESPACE $space,
  CONSTRAINT rich_code_key UNIQUE (code) DEFERRABLE INITIALLY DEFERRED,
  CONSTRAINT rich_qty_note_key UNIQUE $nulls_not_distinct (qty, note),
  CONSTRAINT rich_ref_fkey FOREIGN KEY (ref) REFERENCES parent_ref (id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED,
  CONSTRAINT rich_pair_fkey FOREIGN KEY (ref, ref_code) REFERENCES parent_ref (id, code) MATCH FULL ON UPDATE CASCADE,
  CONSTRAINT rich_qty_check CHECK (qty >= 0) NO INHERIT);
ALTER TABLE rich ADD CONSTRAINT rich_note_check CHECK (length(note) < 100) NOT VALID;
CREATE UNIQUE INDEX rich_ident ON rich (code, id) INCLUDE (qty);
ALTER TABLE rich REPLICA IDENTITY USING INDEX rich_ident;
CREATE INDEX rich_lower ON rich (lower(name) text_pattern_ops, (qty + 1)) WHERE qty > 0;
ALTER INDEX rich_lower ALTER COLUMN 2 SET STATISTICS 500;
CREATE INDEX rich_name ON rich (name COLLATE "POSIX" DESC NULLS LAST, id) WITH (fillfactor = 70) TABLESPACE $space;
ALTER TABLE rich CLUSTER ON rich_name;
CREATE INDEX rich_note_hash ON rich USING hash (note);
COMMENT ON TABLE rich IS 'rich table';
COMMENT ON INDEX rich_lower IS 'lower names';
COMMENT ON INDEX rich_pkey IS 'the key''s index';
COMMENT ON CONSTRAINT rich_pkey ON rich IS 'the key';
COMMENT ON CONSTRAINT rich_code_key ON rich IS 'codes are unique';
COMMENT ON CONSTRAINT rich_ref_fkey ON rich IS 'refers';
COMMENT ON CONSTRAINT rich_qty_check ON rich IS 'no negative';
ALTER TABLE rich OWNER TO deferral_owner;
SQL
  seq 1 3000 | awk '{ r = $1 % 100 + 1; print $1 "\tcode" $1 "\t" r "\tc" r "\t" $1 % 50 "\tName" $1 "\tnote " $1 }' >rich.tsv
}

# records_left: how many statements pgpipe.deferred still holds (0 without the table).
records_left() {
  if [ "$(sql "SELECT to_regclass('pgpipe.deferred') IS NULL")" = t ]; then echo 0
  else sql "SELECT count(*) FROM pgpipe.deferred"; fi
}

drop_rich_table() {
  sql "DROP TABLE rich"
  sql "DROP TABLESPACE $space"
}

# assert_rich_back BEFORE ROWS WHAT: rich holds ROWS rows, its catalog is BEFORE, nothing is left recorded.
assert_rich_back() {
  assert_eq "$2" "$(table_count rich)" "rows after $3"
  assert_eq "$1" "$(catalog_fingerprint rich)" "the catalog after $3"
  assert_eq 0 "$(records_left)" "records left after $3"
  sql "TRUNCATE rich"
}

test_every_deferring_path_gives_the_catalog_back() {
  rich_table
  local before
  before=$(catalog_fingerprint rich)
  assert_contains "$before" "index rich_name owner=deferral_owner tablespace=$space"
  run 0 pgcopy --defer-indexes --defer-constraints rich rich.tsv
  assert_rich_back "$before" 3000 "a streamed load"
  run 0 pgcopy --defer-indexes --defer-constraints --batch-rows 500 rich rich.tsv
  assert_rich_back "$before" 3000 "a load in batches"
  run 0 pgcopy --defer-indexes --defer-constraints --batch-rows 500 --jobs 2 rich rich.tsv
  assert_rich_back "$before" 3000 "a load by 2 jobs"
  # --fast keeps every index while one is the replica identity (plans.sh);
  # without one it defers them.
  run 0 pgcopy --fast --verbose rich rich.tsv
  assert_contains "$err" "indexes and constraints kept: index rich_ident is the table's replica identity"
  assert_rich_back "$before" 3000 "--fast keeping the indexes"
  sql "ALTER TABLE rich REPLICA IDENTITY DEFAULT"
  before=$(catalog_fingerprint rich)
  run 0 pgcopy --fast --verbose rich rich.tsv
  assert_contains "$err" "indexes and constraints deferred"
  assert_rich_back "$before" 3000 "--fast"
  drop_rich_table
}

test_a_killed_or_failed_deferring_load_gives_the_catalog_back() {
  rich_table
  local before
  before=$(catalog_fingerprint rich)
  # Killed, then rerun with its resume key.
  start_stalled_load rich.tsv 1500 pgcopy --defer-indexes --defer-constraints --batch-rows 1000 --resume-key k rich
  kill_when_committed "$loader"
  exec 3>&-
  [ "$(catalog_fingerprint rich)" != "$before" ] || fail "the kill left everything in place: nothing was tested"
  rm stream.tsv
  cp rich.tsv stream.tsv
  run 0 pgcopy --defer-indexes --defer-constraints --batch-rows 1000 --resume-key k rich stream.tsv
  assert_rich_back "$before" 3000 "a kill and a rerun"
  # Killed, then --restore.
  start_stalled_load rich.tsv 1500 pgcopy --defer-indexes --defer-constraints --batch-rows 1000 rich
  kill_when_committed "$loader"
  exec 3>&-
  run 0 pgcopy --restore rich
  assert_rich_back "$before" 1000 "a kill and --restore"
  # Failed at the rebuild (a row no parent has), then rerun.
  { cat rich.tsv; printf '3001\tcode3001\t101\tc101\t0\tx\ty\n'; } >bad.tsv
  run 2 pgcopy --defer-indexes --defer-constraints --batch-rows 1000 rich bad.tsv
  assert_contains "$err" "rows this load committed were deleted, and every index and constraint of rich is back"
  assert_eq "$before" "$(catalog_fingerprint rich)" "the catalog after a failure"
  run 0 pgcopy --defer-indexes --defer-constraints --batch-rows 1000 rich rich.tsv
  assert_rich_back "$before" 3000 "a failure and a rerun"
  drop_rich_table
}

test_restore_says_when_rows_no_load_recorded_break_a_key() {
  sql "CREATE TABLE f5 (id int PRIMARY KEY, name text, g int)"
  local before
  before=$(catalog_fingerprint f5)
  f5_input 3000 5 >d.tsv
  start_stalled_load d.tsv 1500 pgcopy --defer-indexes --batch-rows 1000 f5
  kill_when_committed "$loader"
  exec 3>&-
  # Another session writes a duplicate while the key is off.
  sql "INSERT INTO f5 VALUES (-1, 'other', 0), (-1, 'other again', 0)"
  run 2 pgcopy --restore f5
  assert_contains "$err" "Key (id)=(-1) is duplicated."
  assert_contains "$err" "the 1,000 rows the loads recorded were deleted, but rows no load recorded still break it"
  assert_eq 2 "$(table_count f5)" "the load's rows go, the other session's stay"
  sql "DELETE FROM f5 WHERE name = 'other again'"
  run 0 pgcopy --restore f5
  assert_contains "$err" "restored f5 (no rows of the interrupted load were left to keep): put back 2 indexes"
  assert_eq "$before" "$(catalog_fingerprint f5)"
  assert_eq 1 "$(table_count f5)"
}

test_a_lost_connection_leaves_records_that_restore_finishes_as_the_message_says() {
  sql "CREATE TABLE f5 (id int PRIMARY KEY, name text, g int)"
  local before status=0
  before=$(catalog_fingerprint f5)
  f5_input 2999 5 >d.tsv
  start_stalled_load d.tsv 1500 pgcopy --defer-indexes --batch-rows 1000 f5
  wait_for "SELECT to_regclass('pgpipe.deferred_loads') IS NOT NULL AND EXISTS (SELECT 1 FROM pgpipe.deferred_loads)" "a committed batch of the deferring load"
  sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()
       AND application_name = 'pgcopy'" >/dev/null
  tail -n +1501 d.tsv >&3 || true # pgcopy may stop reading once its connection is found gone
  exec 3>&-
  wait "$loader" || status=$?
  assert_eq 2 "$status" "pgcopy's status: $(cat err)"
  assert_contains "$(cat err)" "the deferred indexes and constraints of f5 are still off: run pgcopy --restore f5"
  assert_not_contains "$(cat err)" "rerun"
  run 0 pgcopy --restore f5
  assert_contains "$err" "restored f5 with the interrupted load's rows"
  assert_eq 1000 "$(table_count f5)"
  assert_eq "$before" "$(catalog_fingerprint f5)"
}

# pg_get_indexdef writes a partitioned table's index "ON ONLY": rebuilt so,
# it stays invalid with no index on any partition, the key cannot be attached
# and --restore fails for ever. The partitioned table's indexes stay.
test_a_partitioned_table_keeps_its_indexes_and_gets_every_row() {
  sql "CREATE TABLE pt (id int PRIMARY KEY, g int) PARTITION BY RANGE (id);
       CREATE TABLE pt1 PARTITION OF pt FOR VALUES FROM (0) TO (1000);
       CREATE TABLE pt2 PARTITION OF pt FOR VALUES FROM (1000) TO (3000);
       CREATE INDEX pt_g ON pt (g)"
  local before
  before=$(for t in pt pt1 pt2; do catalog_fingerprint $t; done)
  seq 1 2000 | awk '{ print $1 "\t" $1 % 7 }' >pt.tsv
  run 0 pgcopy --defer-indexes --defer-constraints --batch-rows 500 pt pt.tsv
  assert_eq 2000 "$(table_count pt)"
  assert_eq "$before" "$(for t in pt pt1 pt2; do catalog_fingerprint $t; done)" "the catalog after a load in batches"
  run 0 pgcopy --restore pt
  assert_contains "$err" "nothing to put back"
  sql "TRUNCATE pt"
  run 0 pgcopy --defer-indexes pt pt.tsv
  assert_eq 2000 "$(table_count pt)"
  assert_eq "$before" "$(for t in pt pt1 pt2; do catalog_fingerprint $t; done)" "the catalog after a streamed load"
  assert_eq 0 "$(sql "SELECT count(*) FROM pgpipe.deferred")" "records left"
}
