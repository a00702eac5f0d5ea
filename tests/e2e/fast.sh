# pgcopy's levers together: deferred indexes with --jobs (crash-safe, put
# back by a rerun or --restore), ids reserved by block, text sent as binary,
# and --fast, which chooses among them.

# file_md5 FILE: the fingerprint of FILE's rows, sorted as sorted_md5 sorts a table.
file_md5() { sort -n "$1" | md5sum | cut -d' ' -f1; }

test_deferred_indexes_with_jobs_come_back_the_same() {
  users_tables
  local before
  before=$(schema_of users)
  pggen -q --preset users -n 60k >users.tsv
  run 0 pgcopy --jobs 2 --batch-rows 10k --defer-indexes --defer-constraints users users.tsv
  assert_eq 60000 "$(table_count users)"
  assert_eq "$before" "$(schema_of users)" "indexes and constraints after the load"
  assert_eq "$(file_md5 users.tsv)" "$(sorted_md5 users)"
  assert_eq 0 "$(sql "SELECT count(*) FROM pgpipe.deferred")" "records left"
  assert_eq 1 "$(sql "SET enable_seqscan = off; SELECT count(*) FROM users WHERE username = 'user_777'")"
}

test_a_duplicate_at_the_rebuild_deletes_the_loaded_rows_and_puts_everything_back() {
  users_tables
  local before
  before=$(schema_of users)
  pggen -q --preset users -n 100 --start 50001 | pgcopy -q users   # rows that were there before
  pggen -q --preset users -n 20k >users.tsv
  pggen -q --preset users -n 1 --start 500 >>users.tsv
  run 2 pgcopy --jobs 2 --batch-rows 5k --defer-indexes users users.tsv
  assert_contains "$err" 'could not create unique index'
  assert_contains "$err" 'is duplicated.'
  assert_contains "$err" "rows this load committed were deleted, and every index and constraint of users is back"
  assert_eq 100 "$(table_count users)" "the rows from before stay, the loaded ones go"
  assert_eq "$before" "$(schema_of users)" "indexes after the failure"
}

test_a_killed_deferring_load_is_finished_by_the_same_command() {
  users_tables
  local before status
  before=$(schema_of users)
  pggen -q --preset users -n 300k >users.tsv
  # Killed while loading with the indexes off, then while an index is being
  # built: that rebuild waits for a lock this test holds until the kill.
  pgcopy -q --jobs 2 --batch-rows 20k --defer-indexes --defer-constraints --resume-key k users users.tsv 2>err &
  kill_once_rows_in users $!
  lock_table users "SHARE UPDATE EXCLUSIVE"
  pgcopy -q --jobs 2 --batch-rows 20k --defer-indexes --defer-constraints --resume-key k users users.tsv 2>err &
  local pid=$!
  wait_for "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE datname = current_database()
            AND query LIKE '%CREATE UNIQUE INDEX%' AND wait_event_type = 'Lock')" "a rebuild of a unique index"
  kill -9 "$pid"
  wait "$pid" 2>/dev/null || true
  unlock_table
  wait_for "SELECT NOT EXISTS (SELECT FROM pg_stat_activity WHERE datname = current_database()
            AND backend_type = 'client backend' AND pid <> pg_backend_pid())" "the killed load's backends to end"
  # Something is off the table now, or the kills came too late to test anything.
  [ "$(schema_of users)" != "$before" ] || skip "both kills came after the load had finished"
  run 0 pgcopy -q --jobs 2 --batch-rows 20k --defer-indexes --defer-constraints --resume-key k users users.tsv
  assert_eq "$before" "$(schema_of users)" "indexes and constraints after the rerun"
  assert_eq 300000 "$(table_count users)"
  assert_eq "$(file_md5 users.tsv)" "$(sorted_md5 users)"
}

test_restore_puts_back_what_a_killed_load_left_off() {
  users_tables
  local before
  before=$(schema_of users)
  pggen -q --preset users -n 300k >users.tsv
  pgcopy -q --jobs 2 --batch-rows 10k --defer-indexes --defer-constraints users users.tsv 2>err &
  kill_once_rows_in users $!
  [ "$(schema_of users)" != "$before" ] || skip "the kill came after the load had finished"
  run 0 pgcopy --restore users
  assert_contains "$err" "put back"
  assert_eq "$before" "$(schema_of users)"
  run 0 pgcopy --restore users
  assert_contains "$err" "nothing to put back"
}

test_a_plain_load_puts_back_what_a_killed_load_left_off_first() {
  users_tables
  local before
  before=$(schema_of users)
  pggen -q --preset users -n 100 >a.tsv
  pggen -q --preset users -n 100 --start 101 >b.tsv
  # As a killed load leaves it: recorded, then dropped.
  sql "CREATE SCHEMA pgpipe"
  sql "CREATE TABLE pgpipe.deferred (relid oid NOT NULL, target text NOT NULL, step int NOT NULL, phase int NOT NULL,
       name text NOT NULL, restore_sql text NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (relid, step))"
  sql "CREATE TABLE pgpipe.deferred_loads (relid oid NOT NULL, xid xid8 NOT NULL, resume_key text)"
  sql "INSERT INTO pgpipe.deferred VALUES ('users'::regclass, 'public.users', 0, 0, 'public.users_email_idx',
       'CREATE INDEX users_email_idx ON public.users USING btree (email)')"
  sql "DROP INDEX users_email_idx"
  run 0 pgcopy users a.tsv
  assert_contains "$err" "putting back the 1 indexes and constraints an interrupted load left off users"
  assert_eq "$before" "$(schema_of users)"
}

test_reserved_ids_never_meet_a_concurrent_inserter() {
  sql "CREATE TABLE events (id bigserial PRIMARY KEY, source text NOT NULL, n int NOT NULL)"
  seq 1 300000 | awk '{ print "load\t" $1 }' >events.tsv
  pgcopy --reserve-ids --jobs 2 --batch-rows 2k -c source,n events events.tsv 2>err &
  local loader=$! status=0 rounds=0
  # Another session takes ids from the same sequence all through the load.
  while kill -0 "$loader" 2>/dev/null; do
    sql "INSERT INTO events (source, n) SELECT 'other', g FROM generate_series(1, 20) g" >/dev/null
    rounds=$((rounds + 1))
  done
  wait "$loader" || status=$?
  assert_eq 0 "$status" "pgcopy: $(cat err)"
  [ "$rounds" -ge 2 ] || skip "the load ended before the inserter got going ($rounds rounds)"
  local others
  others=$(sql "SELECT count(*) FROM events WHERE source = 'other'")
  assert_eq $((300000 + others)) "$(table_count events)"
  assert_eq $((300000 + others)) "$(sql "SELECT count(DISTINCT id) FROM events")"
  assert_eq 300000 "$(sql "SELECT count(DISTINCT n) FROM events WHERE source = 'load'")"
  # The sequence is past every id, so the next insert works.
  sql "INSERT INTO events (source, n) VALUES ('after', 0)"
  assert_eq 1 "$(sql "SELECT count(*) FROM events WHERE id > (SELECT max(id) FROM events WHERE source <> 'after')")"
}

test_reserved_ids_keep_input_order_within_a_batch_and_fill_identity_columns() {
  sql "CREATE TABLE things (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text)"
  printf 'a\nb\nc\n' >things.tsv
  run 0 pgcopy --reserve-ids -c name things things.tsv
  assert_eq "1 a,2 b,3 c" "$(sql "SELECT string_agg(id || ' ' || name, ',' ORDER BY id) FROM things")"
  run 1 pgcopy --reserve-ids things things.tsv
  assert_contains "$err" "--reserve-ids: the input carries id"
  # Given beside --fast it still insists: a flag means one thing.
  run 1 pgcopy --fast --reserve-ids things things.tsv
  assert_contains "$err" "--reserve-ids: the input carries id"
  assert_eq 3 "$(table_count things)"
}

test_send_binary_loads_what_text_loads() {
  sql "CREATE TABLE kinds (i2 int2, i4 int4, i8 int8, n numeric(12,4), nn numeric, b bool, t text, v varchar(20),
       c char(3), d date, ts timestamp, tz timestamptz, u uuid, j json, jb jsonb, f8 float8, f4 float4)"
  sql "INSERT INTO kinds SELECT g % 30000, g, g::bigint * 1000003, g / 7.0, (g * 3.14159)::numeric, g % 2 = 0,
       'row ' || g || E'\t\\\\ \n end', 'v' || g, 'c', date '2000-01-01' + g, timestamp '2020-02-29 12:34:56.789' + g * interval '1 minute',
       timestamptz '2021-06-01 00:00:00+02' + g * interval '1 second', md5(g::text)::uuid, '{\"a\": 1}',
       ('{\"k\": ' || g || '}')::jsonb, g / 3.0, g / 7.0 FROM generate_series(-500, 20000) g"
  sql "INSERT INTO kinds VALUES (NULL, NULL, NULL, NULL, 'NaN', NULL, NULL, NULL, NULL, 'infinity', NULL, NULL, NULL, NULL, NULL, 'Infinity', '-0')"
  export_table kinds text kinds.tsv
  sql "CREATE TABLE kinds_text (LIKE kinds)"
  sql "CREATE TABLE kinds_binary (LIKE kinds)"
  run 0 pgcopy kinds_text kinds.tsv
  run 0 pgcopy --send-binary --verbose --batch-rows 3000 kinds_binary kinds.tsv
  # Seven batches: the last holds NaN, infinity and -0, which go as text.
  assert_contains "$err" "sent 6 of 7 COPY statements as binary"
  export_table kinds_text text a.out
  export_table kinds_binary text b.out
  assert_same_file a.out b.out
  assert_same_file kinds.tsv b.out
}

test_fast_prints_its_plan_and_loads_everything() {
  users_tables
  local before
  before=$(schema_of users)
  pggen -q --preset users -n 50k >users.tsv
  run 0 pgcopy --fast --verbose --stats stats.json users users.tsv
  assert_contains "$err" "plan: "
  assert_contains "$err" "indexes and constraints deferred"
  assert_contains "$err" "trades: batches commit one by one"
  assert_contains "$err" "text sent as text: rows of"
  assert_not_contains "$err" "sent as read"
  assert_contains "$(cat stats.json)" '"plan": "'
  assert_eq 50000 "$(table_count users)"
  assert_eq "$before" "$(schema_of users)"
  assert_eq "$(file_md5 users.tsv)" "$(sorted_md5 users)"
}

test_fast_keeps_the_indexes_of_a_table_larger_than_the_input() {
  users_tables
  pggen -q --preset users -n 20k | pgcopy -q users
  pggen -q --preset users -n 100 --start 20001 >more.tsv
  run 0 pgcopy --fast --verbose users more.tsv
  assert_contains "$err" "indexes and constraints kept: the table holds more than the input brings"
  assert_eq 20100 "$(table_count users)"
}

test_fast_fills_ids_the_input_lacks() {
  orders
  pggen -q --preset orders -n 30k | cut -f2- >orders.tsv
  run 0 pgcopy --fast --verbose -c customer_id,amount,status orders orders.tsv
  assert_contains "$err" "ids of id reserved from its sequence"
  assert_eq 30000 "$(table_count orders)"
  assert_eq 30000 "$(sql "SELECT count(DISTINCT id) FROM orders")"
}

test_new_options_refuse_what_they_cannot_do() {
  orders
  run 1 pgcopy --reserve-ids --single-transaction -c customer_id orders /dev/null
  assert_contains "$err" "--reserve-ids cannot be used with --single-transaction"
  run 1 pgcopy --send-binary -F csv orders /dev/null
  assert_contains "$err" "--send-binary needs text input"
  run 1 pgcopy --restore orders /dev/null
  assert_contains "$err" "--restore takes no FILE"
  run 1 pgcopy --defer-indexes --on-conflict ignore orders /dev/null
  assert_contains "$err" "--defer-indexes cannot be used with --on-conflict"
}
