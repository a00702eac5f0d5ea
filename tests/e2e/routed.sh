# Routed loads: a table partitioned over postgres_fdw servers, each row sent
# by pgcopy straight to its partition's server (tools/pgcopy/router.cpp, destination_set.cpp).

# start_shards N: N more servers (s1..sN, env1..envN here), stopped when the
# test ends; shard k is foreign server shardk on this test's database.
# (In a short directory: a Unix socket's path is limited to 107 bytes.)
start_shards() {
  local k
  servers=$(mktemp -d /tmp/pgrt.XXXXXX)
  chmod 755 "$servers"
  trap 'for d in "'"$servers"'"/s*; do pgsandbox -q stop "$d" >/dev/null 2>&1 || true; done; rm -rf "'"$servers"'"' EXIT
  sql "CREATE EXTENSION postgres_fdw"
  for k in $(seq 1 "$1"); do
    pgsandbox -q start "$servers/s$k" >env$k
    sql "CREATE SERVER shard$k FOREIGN DATA WRAPPER postgres_fdw
           OPTIONS (host '$(. ./env$k; echo "$PGHOST")', port '$(. ./env$k; echo "$PGPORT")', dbname 'postgres')"
    sql "CREATE USER MAPPING FOR CURRENT_USER SERVER shard$k OPTIONS (user 'postgres')"
  done
}

# on_shard K QUERY: runs QUERY on shard K.
on_shard() { (source ./env$1; sql "$2"); }

# shard_has_rows K: whether orders_part on shard K has a committed row.
shard_has_rows() { [ "$(on_shard "$1" "SELECT EXISTS (SELECT FROM orders_part)")" = t ]; }

# orders_over_shards STRATEGY N: orders_all partitioned by id (range: ids
# 1..100000 split evenly; hash: modulus N) over N shards, each holding
# orders_part with a primary key.
orders_over_shards() {
  local k bound
  sql "CREATE TABLE orders_all (id bigint NOT NULL, customer_id int, amount numeric(12,4), status text)
         PARTITION BY $(echo "$1" | tr a-z A-Z) (id)"
  for k in $(seq 1 "$2"); do
    on_shard "$k" "CREATE TABLE orders_part (id bigint PRIMARY KEY, customer_id int, amount numeric(12,4), status text)"
    if [ "$1" = hash ]; then
      bound="WITH (modulus $2, remainder $((k - 1)))"
    else
      bound="FROM ($(( (k - 1) * 100000 / $2 + 1 ))) TO ($(( k * 100000 / $2 + 1 )))"
    fi
    sql "CREATE FOREIGN TABLE orders_p$k PARTITION OF orders_all FOR VALUES $bound SERVER shard$k
           OPTIONS (table_name 'orders_part')"
  done
}

# shard_rows K QUERY_SUFFIX: the sorted rows shard K holds.
shard_md5() { (source ./env$1; sorted_md5 orders_part); }

# rows_md5 FILE: the fingerprint FILE's orders rows have once loaded.
rows_md5() {
  sql "CREATE TABLE IF NOT EXISTS orders (LIKE orders_all)"
  expected_md5 "$1"
}

# misplaced K MODULUS: rows of shard K's foreign partition the server's own
# hash would put elsewhere (OFFSET 0 keeps the test on this server).
misplaced() {
  sql "SELECT count(*) FILTER (WHERE NOT satisfies_hash_partition('orders_all'::regclass, $2, $(( $1 - 1 )), id))
       FROM (SELECT id FROM orders_p$1 OFFSET 0) s"
}

test_routed_range_load_sends_each_row_to_its_server() {
  start_shards 3
  orders_over_shards range 3
  pggen -q --preset orders -n 100k >input.tsv
  run 0 pgcopy orders_all input.tsv
  assert_contains "$err" "loaded 100,000 rows"
  assert_contains "$err" "routed 33,333 to shard1, 33,333 to shard2, 33,334 to shard3"
  local k
  for k in 1 2 3; do
    assert_eq "$(( k * 100000 / 3 - (k - 1) * 100000 / 3 ))|$(( (k - 1) * 100000 / 3 + 1 ))|$(( k * 100000 / 3 ))" \
      "$(on_shard $k "SELECT count(*), min(id), max(id) FROM orders_part")" "shard $k holds its range"
    awk -v lo=$(( (k - 1) * 100000 / 3 + 1 )) -v hi=$(( k * 100000 / 3 )) '$1 >= lo && $1 <= hi' input.tsv >part$k.tsv
    assert_eq "$(rows_md5 part$k.tsv)" "$(shard_md5 $k)" "shard $k equals its part of the input"
  done
  # The coordinator itself kept nothing, and took no row through the parent.
  assert_eq 0 "$(sql "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in%'")"
}

test_routed_hash_load_agrees_with_the_server() {
  start_shards 3
  orders_over_shards hash 3
  pggen -q --preset orders -n 100k >input.tsv
  run 0 pgcopy orders_all input.tsv
  local k total=0
  for k in 1 2 3; do
    assert_eq 0 "$(misplaced $k 3)" "rows on shard $k the server would hash elsewhere"
    total=$(( total + $(on_shard $k "SELECT count(*) FROM orders_part") ))
  done
  assert_eq 100000 "$total"
  assert_eq "$(rows_md5 input.tsv)" "$(sorted_md5 orders_all)" "the whole equals the input"
}

# Hash routing for every key type pgcopy routes: three foreign partitions,
# one remote table each on one server, and the server's verdict on each row.
test_routed_hash_agrees_for_every_key_type() {
  start_shards 1
  local type k
  python3 - <<'EOF' >keys.tsv
import random, uuid, datetime
random.seed(7)
for i in range(3000):
    d = datetime.date(1990, 1, 1) + datetime.timedelta(days=random.randrange(20000))
    ts = datetime.datetime(1990, 1, 1) + datetime.timedelta(seconds=random.randrange(10**9), microseconds=random.randrange(10**6))
    text = ''.join(random.choice('abcxyzé ü\u4e2d') for _ in range(random.randrange(0, 30)))
    print(random.randrange(-32768, 32767), random.randrange(-2**31, 2**31), random.randrange(-2**63, 2**63),
          text, uuid.UUID(int=random.getrandbits(128)), d.isoformat(), ts.isoformat(sep=' '), sep='\t')
EOF
  for type in int2 int4 int8 text varchar uuid date timestamp; do
    sql "DROP TABLE IF EXISTS keyed"
    sql "CREATE TABLE keyed (a int2, b int4, c int8, d text, e uuid, f date, g timestamp, k $type)
           PARTITION BY HASH (k)"
    for k in 1 2 3; do
      on_shard 1 "DROP TABLE IF EXISTS keyed_$k; CREATE TABLE keyed_$k (a int2, b int4, c int8, d text, e uuid, f date, g timestamp, k $type)"
      sql "CREATE FOREIGN TABLE keyed_p$k PARTITION OF keyed FOR VALUES WITH (modulus 3, remainder $((k - 1)))
             SERVER shard1 OPTIONS (table_name 'keyed_$k')"
    done
    local column
    case $type in int2) column=1 ;; int4) column=2 ;; int8) column=3 ;; text | varchar) column=4 ;;
      uuid) column=5 ;; date) column=6 ;; timestamp) column=7 ;; esac
    awk -F'\t' -v c=$column 'BEGIN { OFS = "\t" } { print $0, $c }' keys.tsv >typed.tsv
    run 0 pgcopy --route keyed typed.tsv
    assert_contains "$err" "routed"
    for k in 1 2 3; do
      assert_eq 0 "$(sql "SELECT count(*) FILTER (WHERE NOT satisfies_hash_partition('keyed'::regclass, 3, $((k - 1)), k))
                           FROM (SELECT k FROM keyed_p$k OFFSET 0) s")" "$type rows on partition $k"
    done
    assert_eq 3000 "$(table_count keyed)" "$type rows"
  done
}

# Hash routing for moduli the constant of PostgreSQL's hash_combine64 makes
# matter (pgcopy once had it off by 744: it agreed with the server only for
# moduli dividing 744, such as 3, and refused 5 and 16 as disagreeing).
test_routed_hash_agrees_for_every_modulus() {
  start_shards 1
  local modulus k
  pggen -q --preset orders -n 2000 | cut -f1,4 >keys.tsv
  for modulus in 2 5 7 16; do
    sql "DROP TABLE IF EXISTS spread"
    sql "CREATE TABLE spread (id bigint, k text) PARTITION BY HASH (k)"
    for k in $(seq 0 $((modulus - 1))); do
      on_shard 1 "DROP TABLE IF EXISTS spread_$k; CREATE TABLE spread_$k (id bigint, k text)"
      sql "CREATE FOREIGN TABLE spread_p$k PARTITION OF spread FOR VALUES WITH (modulus $modulus, remainder $k)
             SERVER shard1 OPTIONS (table_name 'spread_$k')"
    done
    run 0 pgcopy --route spread keys.tsv
    assert_contains "$err" "routed"
    for k in $(seq 0 $((modulus - 1))); do
      assert_eq 0 "$(sql "SELECT count(*) FILTER (WHERE NOT satisfies_hash_partition('spread'::regclass, $modulus, $k, k))
                           FROM (SELECT k FROM spread_p$k OFFSET 0) s")" "rows on partition $k of $modulus"
    done
    assert_eq 2000 "$(table_count spread)" "rows over $modulus partitions"
  done
}

test_routed_list_load_with_local_and_default_partitions() {
  start_shards 2
  sql "CREATE TABLE tickets (id int, region text, note text) PARTITION BY LIST (region)"
  on_shard 1 "CREATE TABLE t (id int, region text, note text)"
  on_shard 2 "CREATE TABLE t (id int, region text, note text)"
  sql "CREATE FOREIGN TABLE tickets_eu PARTITION OF tickets FOR VALUES IN ('eu', 'uk') SERVER shard1 OPTIONS (table_name 't')"
  sql "CREATE FOREIGN TABLE tickets_us PARTITION OF tickets FOR VALUES IN ('us') SERVER shard2 OPTIONS (table_name 't')"
  sql "CREATE TABLE tickets_local PARTITION OF tickets FOR VALUES IN ('local', NULL)"
  sql "CREATE TABLE tickets_other PARTITION OF tickets DEFAULT"
  printf '1\teu\ta\n2\tus\tb\n3\tuk\tc\n4\tlocal\td\n5\t\\N\te\n6\tmars\tf\n7\tus\tg\n' >in.tsv
  run 0 pgcopy tickets in.tsv
  assert_contains "$err" "routed 2 to shard1, 2 to shard2, 3 through tickets"
  assert_eq "1,3" "$(on_shard 1 "SELECT string_agg(id::text, ',' ORDER BY id) FROM t")"
  assert_eq "2,7" "$(on_shard 2 "SELECT string_agg(id::text, ',' ORDER BY id) FROM t")"
  assert_eq "4,5" "$(sql "SELECT string_agg(id::text, ',' ORDER BY id) FROM tickets_local")"
  assert_eq "6" "$(sql "SELECT string_agg(id::text, ',' ORDER BY id) FROM tickets_other")"
}

test_rows_fitting_no_partition_are_rejected_with_23514() {
  start_shards 2
  orders_over_shards range 2
  { pggen -q --preset orders -n 1000; printf '200000\t1\t1.00\tnew\n'; } >in.tsv
  # Without a reject file the load fails, naming the row, and commits nothing.
  run 2 pgcopy orders_all in.tsv
  assert_contains "$err" "no partition of relation \"orders_all\" found for row at in.tsv:1001"
  assert_contains "$err" "(id) = (200000)"
  assert_eq 0 "$(table_count orders_all)" "rows after the failed load"
  # With one, the row goes to it with its line and SQLSTATE.
  run 3 pgcopy --reject-file rej.tsv orders_all in.tsv
  assert_eq "$(printf '200000\t1\t1.00\tnew')" "$(cat rej.tsv)"
  assert_contains "$(cat rej.tsv.log)" "$(printf 'in.tsv\t1001\t')"
  assert_contains "$(cat rej.tsv.log)" "23514"
  assert_eq 1000 "$(table_count orders_all)" "rows loaded around the reject"
  # In batches, those cut before the row commit, and the failure says so.
  sql "TRUNCATE orders_all"
  run 2 pgcopy --batch-rows 400 orders_all in.tsv
  assert_contains "$err" "in.tsv:1001"
  assert_contains "$err" "800 rows were committed in 2 batches"
  assert_eq 800 "$(table_count orders_all)" "rows of the batches before the row"
}

test_shard_refusing_a_row_names_its_input_line_and_commits_nowhere() {
  start_shards 2
  orders_over_shards range 2
  pggen -q --preset orders -n 20k >good.tsv
  awk 'NR == 15000 { $3 = "abc" } { print }' OFS='\t' good.tsv >bad.tsv
  run 2 pgcopy orders_all bad.tsv
  assert_contains "$err" "invalid input syntax for type numeric"
  assert_contains "$err" "bad.tsv:15000"
  assert_contains "$err" "nothing was committed"
  assert_eq 0 "$(on_shard 1 "SELECT count(*) FROM orders_part")" "shard 1, which took its rows without fault"
  assert_eq 0 "$(on_shard 2 "SELECT count(*) FROM orders_part")"
  # In batches with a reject file, the row is set aside and the rest loads.
  run 3 pgcopy --batch-rows 4k --reject-file rej.tsv orders_all bad.tsv
  assert_eq 19999 "$(table_count orders_all)"
  assert_contains "$(cat rej.tsv.log)" "$(printf 'bad.tsv\t15000\t')"
  assert_contains "$(cat rej.tsv.log)" "22P02"
}

# One transaction keeps each shard's COPY open from batch to batch (a
# part's rows come from lines here and there): the server's "line N" of
# that stream still names the input's line, in a batch far from the first.
test_one_transaction_names_a_row_refused_in_a_late_batch() {
  start_shards 2
  orders_over_shards hash 2
  pggen -q --preset orders -n 100k >good.tsv
  awk 'NR == 87654 { $3 = "abc" } { print }' OFS='\t' good.tsv >bad.tsv
  run 2 pgcopy -v orders_all bad.tsv
  assert_contains "$err" "plan: one transaction"
  assert_contains "$err" "bad.tsv:87654: public.orders_p"
  assert_contains "$err" 'invalid input syntax for type numeric: "abc"'
  assert_contains "$err" "nothing was committed"
  assert_eq 0 "$(on_shard 1 "SELECT count(*) FROM orders_part")"
  assert_eq 0 "$(on_shard 2 "SELECT count(*) FROM orders_part")"
  # The same input without the bad row: every row, each on its shard.
  run 0 pgcopy orders_all good.tsv
  assert_eq 100000 "$(table_count orders_all)"
  assert_eq 0 "$(misplaced 1 2)"
  assert_eq 0 "$(misplaced 2 2)"
}

# shard_sleeps K: whether a backend of shard K sleeps in pg_sleep.
shard_sleeps() {
  [ "$(on_shard "$1" "SELECT count(*) > 0 FROM pg_stat_activity WHERE wait_event = 'PgSleep'")" = t ]
}

# Ctrl-C while the loader waits for a shard that is slow to read (its
# socket full, the other's not): the load ends at once, no shard keeps a row.
test_sigint_during_a_one_transaction_routed_load_commits_nowhere() {
  start_shards 2
  orders_over_shards hash 2
  on_shard 1 "CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS
              'BEGIN PERFORM pg_sleep(0.5); RETURN NEW; END'"
  on_shard 1 "CREATE TRIGGER slow BEFORE INSERT ON orders_part FOR EACH ROW EXECUTE FUNCTION slow()"
  pggen -q --preset orders -n 100k >rows.tsv
  pgcopy orders_all rows.tsv 2>err &
  local pid=$! status=0
  wait_until "shard 1's backend in its slow trigger" shard_sleeps 1
  kill -INT "$pid"
  wait "$pid" || status=$?
  assert_eq 130 "$status" "exit status after SIGINT"
  assert_eq 0 "$(on_shard 1 "SELECT count(*) FROM orders_part")"
  assert_eq 0 "$(on_shard 2 "SELECT count(*) FROM orders_part")"
  wait_until "shard 1's backend out of its trigger" eval '! shard_sleeps 1'
}

test_routed_resume_key_holds_across_kill_9() {
  start_shards 3
  orders_over_shards hash 3
  pggen -q --preset orders -n 100k >input.tsv
  local k pid
  pgcopy -q --batch-rows 2k --resume-key routed orders_all input.tsv 2>err &
  pid=$!
  wait_until "a batch committed on shard 3" shard_has_rows 3
  kill -9 "$pid"
  wait "$pid" 2>/dev/null || true
  local before=0
  for k in 1 2 3; do before=$(( before + $(on_shard $k "SELECT count(*) FROM orders_part") )); done
  [ "$before" -lt 100000 ] || skip "the load finished before the kill"
  run 0 pgcopy --batch-rows 2k --resume-key routed orders_all input.tsv
  for k in 1 2 3; do
    assert_eq 0 "$(misplaced $k 3)"
  done
  # The primary keys on the shards would refuse a second copy of a row;
  # the whole equals the input, so none is missing either.
  assert_eq "$(rows_md5 input.tsv)" "$(sorted_md5 orders_all)" "the whole after the rerun"
  # A third run finds every batch committed everywhere.
  run 0 pgcopy --batch-rows 2k --resume-key routed orders_all input.tsv
  assert_eq 100000 "$(table_count orders_all)"
  # One that would read the input otherwise is refused (issue 20, item 2).
  run 1 pgcopy --batch-rows 2k --null x --resume-key routed orders_all input.tsv
  assert_contains "$err" 'resume key "routed" was loading with other options: null: "\\N" then, "x" now'
  assert_contains "$err" "DELETE FROM pgpipe.routed_batches WHERE key = 'routed' on every server"
}

# restart_with SANDBOX SETTING: sets a server setting that needs a restart.
restart_with() {
  local bindir
  bindir=$(sed -n 's/^bindir=//p' "$1/.pgsandbox")
  runuser -u postgres -- sh -c "echo '$2' >>'$1/data/postgresql.conf' && '$bindir/pg_ctl' -D '$1/data' -w -m fast restart -l '$1/server.log'" >/dev/null
}

test_two_phase_commits_on_every_shard_or_on_none() {
  start_shards 2
  orders_over_shards hash 2
  pggen -q --preset orders -n 10k >input.tsv
  # Shard 2 cannot prepare (max_prepared_transactions is 0): nothing commits anywhere.
  restart_with "$servers/s1" "max_prepared_transactions = 4"
  run 2 pgcopy --two-phase orders_all input.tsv
  assert_contains "$err" "PREPARE TRANSACTION failed"
  assert_contains "$err" "max_prepared_transactions"
  assert_eq 0 "$(on_shard 1 "SELECT count(*) FROM orders_part")" "shard 1 after the refused PREPARE"
  assert_eq 0 "$(on_shard 1 "SELECT count(*) FROM pg_prepared_xacts")" "transactions left prepared on shard 1"
  restart_with "$servers/s2" "max_prepared_transactions = 4"
  run 0 pgcopy --two-phase orders_all input.tsv
  assert_eq 10000 "$(table_count orders_all)"
  assert_eq 0 "$(on_shard 2 "SELECT count(*) FROM pg_prepared_xacts")"
  # Batches: each is prepared everywhere, then committed.
  run 0 pgcopy --two-phase --truncate --batch-rows 3k orders_all input.tsv
  assert_contains "$err" "4 batches"
  assert_eq "$(rows_md5 input.tsv)" "$(sorted_md5 orders_all)"
  # A transaction an earlier pgcopy left prepared would hold its rows' locks
  # for ever: the load refuses to start, naming it.
  on_shard 2 "BEGIN; INSERT INTO orders_part VALUES (999999, 1, 1, 'x'); PREPARE TRANSACTION 'pgcopy-left-0-1'"
  run 1 pgcopy --two-phase --truncate orders_all input.tsv
  assert_contains "$err" "pgcopy-left-0-1"
  assert_contains "$err" "ROLLBACK PREPARED"
  on_shard 2 "ROLLBACK PREPARED 'pgcopy-left-0-1'"
}

test_keys_pgcopy_cannot_route_are_refused_with_the_reason() {
  start_shards 1
  sql "CREATE TABLE priced (price numeric, note text) PARTITION BY RANGE (price)"
  on_shard 1 "CREATE TABLE priced (price numeric, note text)"
  sql "CREATE FOREIGN TABLE priced_p PARTITION OF priced FOR VALUES FROM (0) TO (100) SERVER shard1 OPTIONS (table_name 'priced')"
  printf '1.5\ta\n2.5\tb\n' >in.tsv
  run 1 pgcopy --route priced in.tsv
  assert_contains "$err" "pgcopy does not route keys of type numeric"
  assert_contains "$err" "--no-route"
  # Without --route the load goes through the parent, saying so.
  run 0 pgcopy priced in.tsv
  assert_contains "$err" "not routed to its shards"
  assert_eq 2 "$(table_count priced)"
  run 1 pgcopy --route --single-transaction priced in.tsv
  assert_contains "$err" "one server's savepoints"
  run 1 pgcopy --two-phase --no-route priced in.tsv
  assert_contains "$err" "--two-phase needs a routed load"
  # A column left out that the parent would compute.
  sql "CREATE TABLE stamped (k int, v text, at date DEFAULT '2020-01-01') PARTITION BY RANGE (k)"
  on_shard 1 "CREATE TABLE stamped (k int, v text, at date)"
  sql "CREATE FOREIGN TABLE stamped_p PARTITION OF stamped FOR VALUES FROM (0) TO (10) SERVER shard1 OPTIONS (table_name 'stamped')"
  printf '1\ta\n' >kv.tsv
  run 1 pgcopy --route -c k,v stamped kv.tsv
  assert_contains "$err" "column at is not loaded"
  run 0 pgcopy -c k,v stamped kv.tsv
  assert_eq "2020-01-01" "$(on_shard 1 "SELECT at FROM stamped")" "the parent's default, through the parent"
}

test_routed_load_never_prints_the_mapping_password() {
  start_shards 1
  sql "CREATE TABLE kv (k int, v text) PARTITION BY RANGE (k)"
  on_shard 1 "CREATE TABLE kv (k int, v text)"
  sql "ALTER USER MAPPING FOR CURRENT_USER SERVER shard1 OPTIONS (ADD password 'Sekr1t-pw')"
  sql "CREATE FOREIGN TABLE kv_p PARTITION OF kv FOR VALUES FROM (0) TO (10) SERVER shard1 OPTIONS (table_name 'kv')"
  printf '1\ta\n' >in.tsv
  run 0 pgcopy -v --stats s.json kv in.tsv
  assert_contains "$err" "routing: public.kv_p to public.kv, database \"postgres\""
  assert_contains "$err" "as \"postgres\""
  # The shard is reached as the mapping's user.
  sql "ALTER USER MAPPING FOR CURRENT_USER SERVER shard1 OPTIONS (SET user 'nosuchrole')"
  run 2 pgcopy kv in.tsv
  assert_contains "$err" "\"nosuchrole\""
  # The server is gone: the failure names it, never the password.
  pgsandbox -q stop "$servers/s1" >/dev/null
  run 2 pgcopy --stats s2.json kv in.tsv
  assert_contains "$err" "connection"
  ! grep -rq "Sekr1t" . || fail "the password was printed or written: $(grep -r Sekr1t . | head -n 3)"
}

test_routed_csv_with_a_header_in_another_column_order() {
  start_shards 2
  sql "CREATE TABLE people (id int, region text, name text) PARTITION BY LIST (region)"
  on_shard 1 "CREATE TABLE people (id int, region text, name text)"
  on_shard 2 "CREATE TABLE people (id int, region text, name text)"
  sql "CREATE FOREIGN TABLE people_a PARTITION OF people FOR VALUES IN ('north, east', 'say \"hi\"') SERVER shard1
         OPTIONS (table_name 'people')"
  sql "CREATE FOREIGN TABLE people_b PARTITION OF people FOR VALUES IN ('south', '') SERVER shard2
         OPTIONS (table_name 'people')"
  printf 'name,region,id\n"Smith, J","north, east",1\nLee,south,2\n"O""Neil","say ""hi""",3\nKim,"",4\n' >in.csv
  run 0 pgcopy -F csv --header --route people in.csv
  assert_contains "$err" "routed 2 to shard1, 2 to shard2"
  assert_eq "1|Smith, J
3|O\"Neil" "$(on_shard 1 "SELECT id, name FROM people ORDER BY id")"
  assert_eq "2|south
4|" "$(on_shard 2 "SELECT id, region FROM people ORDER BY id")"
}

# A bad CSV value spanning lines, sent to a shard: named by its row's first line,
# in one line of message; the rows after a quoted newline keep their lines.
test_routed_csv_row_spanning_lines_is_named_by_its_first_line() {
  start_shards 2
  sql "CREATE TABLE people (id int, region text, name text) PARTITION BY LIST (region)"
  on_shard 1 "CREATE TABLE people (id int, region text, name text)"
  on_shard 2 "CREATE TABLE people (id int, region text, name text)"
  sql "CREATE FOREIGN TABLE people_a PARTITION OF people FOR VALUES IN ('a') SERVER shard1 OPTIONS (table_name 'people')"
  sql "CREATE FOREIGN TABLE people_b PARTITION OF people FOR VALUES IN ('b') SERVER shard2 OPTIONS (table_name 'people')"
  printf '1,a,"x\ny"\n2,b,z\n"3\n3",a,w\n4,a,v\n' >bad.csv   # the bad row is lines 4 and 5
  printf '1,a,"x\ny"\nq,a,w\n4,a,v\n' >after.csv           # the bad row is line 3
  local mode
  for mode in "" "--batch-rows 10" "--batch-rows 10 --reject-file r"; do
    # shellcheck disable=SC2086 # the mode is words
    if [[ $mode == *reject* ]]; then
      run 3 pgcopy -F csv $mode people bad.csv
      assert_contains "$(cat r.log)" "$(printf 'bad.csv\t4\t')"
      run 3 pgcopy -F csv $mode people after.csv
      assert_contains "$(cat r.log)" "$(printf 'after.csv\t3\t')"
      continue
    fi
    # shellcheck disable=SC2086
    run 2 pgcopy -F csv $mode people bad.csv
    assert_contains "$(head -n 1 err)" 'invalid input syntax for type integer: "3\n3"'
    assert_contains "$err" "bad.csv:4"
    # shellcheck disable=SC2086
    run 2 pgcopy -F csv $mode people after.csv
    assert_contains "$err" "after.csv:3"
  done
}

test_routed_input_with_rows_after_an_end_marker_commits_nothing() {
  start_shards 2
  orders_over_shards hash 2
  pggen -q --preset orders -n 1000 >in.tsv
  { cat in.tsv; printf '\\.\n'; } >ends.tsv
  run 0 pgcopy orders_all ends.tsv
  assert_eq 1000 "$(table_count orders_all)" "rows before a final end marker"
  { cat in.tsv; printf '\\.\n5000\t1\t1.00\tnew'; } >after.tsv
  run 1 pgcopy --truncate orders_all after.tsv
  assert_contains "$err" "after.tsv:1001"
  assert_eq 1000 "$(table_count orders_all)" "rows of the first load, untouched by the failed one"
  # A last row that ends in \. loads: the server takes the data before it
  # (14-17; 18 refuses the line, and so does the routed load).
  { cat in.tsv; printf '5000\t1\t1.00\tnew\\.\n'; } >data_end.tsv
  { cat in.tsv; printf '5000\t1\t1.00\tnew\n'; } >plain_end.tsv
  if [ "$(server_major)" -ge 18 ]; then
    run 1 pgcopy --truncate orders_all data_end.tsv
    assert_contains "$err" "data_end.tsv:1001: end-of-copy marker is not alone on its line"
    run 1 pgcopy --truncate --batch-rows 100 orders_all data_end.tsv
    assert_contains "$err" "data_end.tsv:1001: end-of-copy marker is not alone on its line"
    assert_eq 1000 "$(table_count orders_all)" "rows of the first load, untouched by the refused one"
    return
  fi
  run 0 pgcopy --truncate orders_all data_end.tsv
  assert_eq "$(rows_md5 plain_end.tsv)" "$(sorted_md5 orders_all)" "a row ending in a marker, streamed"
  run 0 pgcopy --truncate --batch-rows 100 orders_all data_end.tsv
  assert_eq "$(rows_md5 plain_end.tsv)" "$(sorted_md5 orders_all)" "a row ending in a marker, in batches"
  { cat data_end.tsv; printf '5001\t1\t1.00\tnew\n'; } >data_after.tsv
  run 1 pgcopy --truncate orders_all data_after.tsv
  assert_contains "$err" "data_after.tsv:1001: end-of-data marker"
  # A \. with another line end than the input's: the server refuses it, so does the routed load.
  { cat in.tsv; printf '5000\t1\t1.00\tnew\\.\r\n'; } >crlf_end.tsv
  run 1 pgcopy --truncate orders_all crlf_end.tsv
  assert_contains "$err" "crlf_end.tsv:1001: end-of-copy marker does not match previous newline style"
  assert_eq "$(rows_md5 plain_end.tsv)" "$(sorted_md5 orders_all)" "the table after the refused load"
}

test_routed_load_logs_in_with_the_callers_pgpass() {
  start_shards 1
  sql "CREATE TABLE kv (k int, v text) PARTITION BY RANGE (k)"
  on_shard 1 "CREATE TABLE kv (k int, v text); CREATE ROLE loader LOGIN PASSWORD 'Pw-from-pgpass-9'; GRANT ALL ON kv TO loader"
  sql "ALTER USER MAPPING FOR CURRENT_USER SERVER shard1 OPTIONS (SET user 'loader')"
  sql "CREATE FOREIGN TABLE kv_p PARTITION OF kv FOR VALUES FROM (0) TO (10) SERVER shard1 OPTIONS (table_name 'kv')"
  # The shard asks loader for a password; the coordinator itself still trusts.
  sed -i '1i local all loader scram-sha-256' "$servers/s1/data/pg_hba.conf"
  on_shard 1 "SELECT pg_reload_conf()" >/dev/null
  printf '1\ta\n2\tb\n' >in.tsv
  run 2 env PGPASSFILE=/nonexistent pgcopy --route kv in.tsv
  assert_contains "$err" "password"
  assert_eq 0 "$(on_shard 1 "SELECT count(*) FROM kv")"
  printf '*:*:*:loader:Pw-from-pgpass-9\n' >pgpass
  chmod 600 pgpass
  run 0 env PGPASSFILE=$PWD/pgpass pgcopy -v --route kv in.tsv
  assert_contains "$err" "as \"loader\""
  assert_eq 2 "$(on_shard 1 "SELECT count(*) FROM kv")"
  ! grep -rq "Pw-from-pgpass" --exclude=pgpass . || fail "the password was printed: $(grep -r Pw-from . | head -n 3)"
}

test_routed_toast_compression_is_set_on_the_shards() {
  require_lz4 # the shards run the same installation
  start_shards 1
  sql "CREATE TABLE docs (k int, body text) PARTITION BY RANGE (k)"
  on_shard 1 "CREATE TABLE docs (k int, body text)"
  sql "CREATE FOREIGN TABLE docs_p PARTITION OF docs FOR VALUES FROM (0) TO (10) SERVER shard1 OPTIONS (table_name 'docs')"
  python3 -c "print('1\t' + 'compressible ' * 2000)" >in.tsv
  run 0 pgcopy --route --toast-compression lz4 docs in.tsv
  assert_eq lz4 "$(on_shard 1 "SELECT pg_column_compression(body) FROM docs")"
}

test_routed_keys_the_server_reads_otherwise_still_land_right() {
  start_shards 2
  # varchar(3): 'abc  ' is cut to 'abc' by the server, so it hashes as 'abc'.
  sql "CREATE TABLE codes (code varchar(3), n int) PARTITION BY HASH (code)"
  on_shard 1 "CREATE TABLE codes (code varchar(3), n int)"
  on_shard 2 "CREATE TABLE codes (code varchar(3), n int)"
  sql "CREATE FOREIGN TABLE codes_0 PARTITION OF codes FOR VALUES WITH (modulus 2, remainder 0) SERVER shard1 OPTIONS (table_name 'codes')"
  sql "CREATE FOREIGN TABLE codes_1 PARTITION OF codes FOR VALUES WITH (modulus 2, remainder 1) SERVER shard2 OPTIONS (table_name 'codes')"
  printf 'abc  \t1\nabc\t2\nxyz\t3\nq\t4\n' >codes.tsv
  run 0 pgcopy --route codes codes.tsv
  assert_eq 0 "$(sql "SELECT count(*) FROM (SELECT code FROM codes_0 OFFSET 0) s WHERE NOT satisfies_hash_partition('codes'::regclass, 2, 0, code)")"
  assert_eq 0 "$(sql "SELECT count(*) FROM (SELECT code FROM codes_1 OFFSET 0) s WHERE NOT satisfies_hash_partition('codes'::regclass, 2, 1, code)")"
  assert_eq 4 "$(table_count codes)"
  # CSV with an escape of its own: a key after a field ending in an escaped escape.
  sql "CREATE TABLE paths (path text, id int, note text) PARTITION BY RANGE (id)"
  on_shard 1 "CREATE TABLE paths (path text, id int, note text)"
  on_shard 2 "CREATE TABLE paths (path text, id int, note text)"
  sql "CREATE FOREIGN TABLE paths_lo PARTITION OF paths FOR VALUES FROM (0) TO (8) SERVER shard1 OPTIONS (table_name 'paths')"
  sql "CREATE FOREIGN TABLE paths_hi PARTITION OF paths FOR VALUES FROM (8) TO (100) SERVER shard2 OPTIONS (table_name 'paths')"
  printf '"C:\\\\",7,"a,8"\n"b",9,c\n' >paths.csv
  run 0 pgcopy --route -F csv --escape '\' paths paths.csv
  assert_eq "C:\\|7|a,8" "$(on_shard 1 "SELECT path, id, note FROM paths")"
  assert_eq "b|9|c" "$(on_shard 2 "SELECT path, id, note FROM paths")"
  # Two inputs, the first without a final line end: two rows, not one.
  printf '1\tx\n2\ty' >a.tsv
  printf '9\tz\n' >b.tsv
  sql "CREATE TABLE pairs (id int, v text) PARTITION BY RANGE (id)"
  on_shard 1 "CREATE TABLE pairs (id int, v text)"
  sql "CREATE FOREIGN TABLE pairs_p PARTITION OF pairs FOR VALUES FROM (0) TO (100) SERVER shard1 OPTIONS (table_name 'pairs')"
  run 0 pgcopy --route pairs a.tsv b.tsv
  assert_eq "1|x,2|y,9|z" "$(on_shard 1 "SELECT string_agg(id || '|' || v, ',' ORDER BY id) FROM pairs")"
}

# kv_over_shard1: kv partitioned by range over foreign partition kv_p on
# shard1 (keys 0 to 9) and local partition kv_l (10 to 19).
kv_over_shard1() {
  sql "CREATE TABLE kv (k int, v text) PARTITION BY RANGE (k)"
  on_shard 1 "CREATE TABLE kv (k int, v text)"
  sql "CREATE FOREIGN TABLE kv_p PARTITION OF kv FOR VALUES FROM (0) TO (10) SERVER shard1 OPTIONS (table_name 'kv')"
  sql "CREATE TABLE kv_l PARTITION OF kv FOR VALUES FROM (10) TO (20)"
}

# Issue 21, item 2: a server's options that are postgres_fdw's, not libpq's
# (18 added use_scram_passthrough), stay out of pgcopy's login to the shard.
test_routed_load_leaves_out_server_options_libpq_does_not_know() {
  start_shards 1
  kv_over_shard1
  sql "ALTER SERVER shard1 OPTIONS (ADD fetch_size '500', ADD batch_size '100', ADD updatable 'true')"
  if [ "$(server_major)" -ge 18 ]; then
    # Settable without a SCRAM user mapping; it only matters for SCRAM logins.
    sql "ALTER SERVER shard1 OPTIONS (ADD use_scram_passthrough 'true')"
  fi
  printf '1\ta\n12\tb\n' >in.tsv
  run 0 pgcopy --route kv in.tsv
  assert_contains "$err" "routed 1 to shard1, 1 through kv"
  assert_eq "1|a" "$(on_shard 1 "SELECT k, v FROM kv")"
  # An option libpq knows with a value it refuses: the failure names the
  # foreign server, not -d (pgcopy was given no -d).
  sql "ALTER SERVER shard1 OPTIONS (ADD sslmode 'bogus')"
  run 2 pgcopy --route kv in.tsv
  assert_contains "$err" "server shard1"
  assert_contains "$err" "sslmode"
  assert_not_contains "$err" "given with -d"
}

# Issue 21, item 10: the load through the parent says what the server does
# with a foreign partition's rows: one INSERT each before 16; from 16 on,
# batches of the partition's batch_size (at most the 1000 rows COPY buffers).
test_routed_fallback_notice_says_how_the_server_sends_rows() {
  start_shards 1
  kv_over_shard1
  local major
  major=$(server_major)
  printf '1\ta\n12\tb\n' >in.tsv
  # pgcopy does not route with --single-transaction: the load goes through the parent.
  run 0 pgcopy --single-transaction kv in.tsv
  assert_contains "$err" "loading through kv instead (PostgreSQL $major sends one remote INSERT per row bound for a foreign partition"
  sql "ALTER SERVER shard1 OPTIONS (ADD batch_size '300')"
  run 0 pgcopy --single-transaction --truncate kv in.tsv
  if [ "$major" -ge 16 ]; then
    assert_contains "$err" "(PostgreSQL $major sends the rows bound for a foreign partition in remote INSERTs of up to 300 rows (batch_size)"
  else
    assert_contains "$err" "(PostgreSQL $major sends one remote INSERT per row bound for a foreign partition, whatever its batch_size"
  fi
  # The table's batch_size wins over the server's; COPY sends at most 1000 at once.
  sql "ALTER FOREIGN TABLE kv_p OPTIONS (ADD batch_size '5000')"
  run 0 pgcopy --single-transaction --truncate kv in.tsv
  if [ "$major" -ge 16 ]; then
    assert_contains "$err" "remote INSERTs of up to 1000 rows (batch_size"
  fi
  assert_eq 2 "$(table_count kv)"
  # --route refuses, and says what --no-route would do.
  run 1 pgcopy --route --single-transaction kv in.tsv
  assert_contains "$err" "--no-route (PostgreSQL $major sends"
}

# Issue 21, FREEZE: no major freezes rows copied into a partitioned table,
# nor into a foreign table (18 refuses it; 14 to 17 take it only into one
# created in the same transaction, and ignore it). pgcopy says so up front,
# before any TRUNCATE, on every major.
test_freeze_toward_foreign_partitions_is_refused_up_front() {
  start_shards 1
  kv_over_shard1
  local major
  major=$(server_major)
  # The server, on this major.
  run 1 psql -X -v ON_ERROR_STOP=1 -c "BEGIN" -c "TRUNCATE kv" -c "COPY kv FROM PROGRAM 'true' (FREEZE)"
  assert_contains "$err" "cannot perform COPY FREEZE on a partitioned table"
  local created="BEGIN; CREATE FOREIGN TABLE fresh (k int) SERVER shard1 OPTIONS (table_name 'kv');
                 COPY fresh FROM PROGRAM 'echo 1' (FREEZE); ROLLBACK"
  if [ "$major" -ge 18 ]; then
    run 1 psql -X -v ON_ERROR_STOP=1 -c "$created"
    assert_contains "$err" "cannot perform COPY FREEZE on a foreign table"
  else
    run 0 psql -X -v ON_ERROR_STOP=1 -c "$created"
  fi
  # pgcopy refuses, and truncates nothing.
  printf '1\ta\n12\tb\n' >in.tsv
  run 0 pgcopy kv in.tsv
  # A foreign table that is no partition, too.
  sql "CREATE FOREIGN TABLE kv_alone (k int, v text) SERVER shard1 OPTIONS (table_name 'kv')"
  local table
  for table in kv kv_p kv_alone; do
    run 1 pgcopy --freeze --truncate "$table" in.tsv
    assert_contains "$err" "--freeze: no PostgreSQL freezes rows copied into"
    if [ "$major" -ge 18 ]; then
      assert_contains "$err" "PostgreSQL $major refuses COPY FREEZE into a foreign table"
    else
      assert_contains "$err" "PostgreSQL $major takes COPY FREEZE into a foreign table only in the transaction that created it, and ignores FREEZE there"
    fi
    assert_eq 2 "$(table_count kv)" "rows after pgcopy --freeze --truncate $table"
  done
  run 1 pgcopy --freeze --truncate --route kv in.tsv
  assert_contains "$err" "--freeze: no PostgreSQL freezes rows copied into"
}

# A shard of another major than the coordinator: PostgreSQL 18 reads a CSV
# line `\.` as a row, 15 as the end of the data. Routed by 18's rules, the
# rows after it would be dropped by 15 without an error: the shard's count
# of rows taken gives it away, and the load fails, committing nothing.
test_a_shard_of_another_major_that_ends_the_data_early_fails_the_load() {
  [ -x "$PGSANDBOX_BUILDS/18/bin/postgres" ] || skip "no build of PostgreSQL 18 in $PGSANDBOX_BUILDS (make deps fetches it)"
  servers=$(mktemp -d /tmp/pgrt.XXXXXX)
  chmod 755 "$servers"
  trap 'for d in "'"$servers"'"/*; do pgsandbox -q stop "$d" >/dev/null 2>&1 || true; done; rm -rf "'"$servers"'"' EXIT
  env -u PGSANDBOX_BINDIR pgsandbox -q start --pg 18 "$servers/c" >env18
  env -u PGSANDBOX_BINDIR pgsandbox -q start --pg 15 "$servers/s" >env15
  (source ./env15; sql "CREATE TABLE kv_part (k text)")
  source ./env18
  sql "CREATE EXTENSION postgres_fdw"
  sql "CREATE SERVER old FOREIGN DATA WRAPPER postgres_fdw
         OPTIONS (host '$(. ./env15; echo "$PGHOST")', port '$(. ./env15; echo "$PGPORT")', dbname 'postgres')"
  sql "CREATE USER MAPPING FOR CURRENT_USER SERVER old OPTIONS (user 'postgres')"
  sql "CREATE TABLE kv (k text) PARTITION BY HASH (k)"
  sql "CREATE FOREIGN TABLE kv_p PARTITION OF kv FOR VALUES WITH (modulus 1, remainder 0) SERVER old
         OPTIONS (table_name 'kv_part')"
  printf 'a\nb\n\\.\nc\nd\n' >marker.csv
  run 2 pgcopy -F csv kv marker.csv
  assert_contains "$err" "took 2 of the 5 rows sent to it"
  assert_contains "$err" "PostgreSQL 15 there reads an end-of-data marker"
  assert_eq 0 "$(table_count kv)" "rows committed by the streamed load"
  # In batches, the batch before the marker's stays committed, as it would
  # for any failure; the marker's batch is named.
  run 2 pgcopy -F csv --batch-rows 2 kv marker.csv
  assert_contains "$err" "took 0 of the 2 rows sent to it"
  assert_eq "a,b" "$(sql "SELECT string_agg(k, ',' ORDER BY k) FROM kv")" "rows committed in batches"
}

# Issue 22: a routed load keeps the rules the one engine keeps. Each test
# loads the same input, with the same options, into a plain table of the
# same shape: what the engine does there is what the routed load must do.

# plain_orders: table plain, of orders_all's shape, not partitioned.
plain_orders() { sql "CREATE TABLE plain (LIKE orders_all)"; }

# Drift 1 (design.md §3): with --reject-file, a \. line before the end of
# the input is rejected (22P04) and the rows after it load.
test_routed_rows_after_an_end_marker_load_with_a_reject_file() {
  start_shards 2
  orders_over_shards hash 2
  plain_orders
  pggen -q --preset orders -n 1000 >in.tsv
  { cat in.tsv; printf '\\.\n'; pggen -q --preset orders -n 1005 | tail -n 5; } >after.tsv
  run 3 pgcopy --batch-rows 300 --reject-file plain.rej plain after.tsv
  run 3 pgcopy --batch-rows 300 --reject-file routed.rej orders_all after.tsv
  assert_eq 1005 "$(table_count orders_all)" "rows around the marker"
  assert_eq "$(sorted_md5 plain)" "$(sorted_md5 orders_all)" "the routed rows against the plain load's"
  assert_eq '\.' "$(cat routed.rej)" "the rejected line"
  assert_same_file plain.rej routed.rej
  assert_same_file plain.rej.log routed.rej.log
  assert_contains "$(cat routed.rej.log)" "$(printf 'after.tsv\t1001\t')"
  # A \. after a row's data (14-17 load the data, 18 refuses the line).
  [ "$(server_major)" -lt 18 ] || return 0
  { cat in.tsv; printf '5000\t1\t1.00\tnew\\.\n'; pggen -q --preset orders -n 1005 | tail -n 5; } >data_end.tsv
  run 3 pgcopy --truncate --batch-rows 300 --reject-file plain.rej plain data_end.tsv
  run 3 pgcopy --truncate --batch-rows 300 --reject-file routed.rej orders_all data_end.tsv
  assert_eq 1006 "$(table_count orders_all)" "rows around the marker after data"
  assert_eq "$(sorted_md5 plain)" "$(sorted_md5 orders_all)" "the routed rows against the plain load's"
  assert_same_file plain.rej routed.rej
  assert_same_file plain.rej.log routed.rej.log
}

# Drift 1, refused markers: a \. line the server refuses (its line end is
# not the input's first line's; on 18 a \. after data) is rejected whole
# (22P04) with --reject-file, as the engine rejects it, and the rows after
# it load; at the end of the input too.
test_routed_refused_end_marker_is_rejected_with_a_reject_file() {
  start_shards 2
  orders_over_shards hash 2
  plain_orders
  pggen -q --preset orders -n 1000 >in.tsv
  pggen -q --preset orders -n 1005 | tail -n 5 >tail.tsv
  { cat in.tsv; printf '\\.\r\n'; cat tail.tsv; } >crlf.tsv
  { cat in.tsv; printf '5000\t1\t1.00\tnew\\.\r\n'; cat tail.tsv; } >data_crlf.tsv
  { cat in.tsv; printf '\\.\r\n'; } >crlf_last.tsv
  local f
  for f in crlf.tsv data_crlf.tsv crlf_last.tsv; do
    sql "TRUNCATE plain, orders_all"
    run 3 pgcopy --batch-rows 300 --reject-file plain.rej plain $f
    run 3 pgcopy --batch-rows 300 --reject-file routed.rej orders_all $f
    assert_eq "$(table_count plain)" "$(table_count orders_all)" "rows around the refused marker ($f)"
    assert_eq "$(sorted_md5 plain)" "$(sorted_md5 orders_all)" "the routed rows against the plain load's ($f)"
    assert_same_file plain.rej routed.rej
    assert_same_file plain.rej.log routed.rej.log
    assert_contains "$(cat routed.rej.log)" "$(printf "$f\t1001\t")"
  done
  assert_eq 1000 "$(table_count orders_all)" "rows before a refused marker that ends the input"
  # 18 refuses a \. after data on its line (14-17 load the data).
  [ "$(server_major)" -ge 18 ] || return 0
  { cat in.tsv; printf '5000\t1\t1.00\tnew\\.\n'; cat tail.tsv; } >data_end.tsv
  run 3 pgcopy --truncate --batch-rows 300 --reject-file plain.rej plain data_end.tsv
  run 3 pgcopy --truncate --batch-rows 300 --reject-file routed.rej orders_all data_end.tsv
  assert_eq "$(sorted_md5 plain)" "$(sorted_md5 orders_all)" "the routed rows against the plain load's (18)"
  assert_same_file plain.rej routed.rej
  assert_same_file plain.rej.log routed.rej.log
}

# Drift 2: --max-rejects is checked before COMMIT: the batch that crosses
# the limit is rolled back, none of its rows committed.
test_routed_max_rejects_rolls_back_the_crossing_batch() {
  start_shards 2
  orders_over_shards hash 2
  plain_orders
  pggen -q --preset orders -n 3000 | awk 'NR == 1500 || NR == 1600 { $3 = "abc" } { print }' OFS='\t' >bad.tsv
  local limit
  for limit in 1 0.05%; do
    run 3 pgcopy --truncate --batch-rows 1000 --max-rejects $limit --reject-file plain.rej plain bad.tsv
    run 3 pgcopy --truncate --batch-rows 1000 --max-rejects $limit --reject-file routed.rej orders_all bad.tsv
    assert_contains "$err" "more than --max-rejects"
    assert_eq 1000 "$(table_count plain)" "rows the plain load committed (--max-rejects $limit)"
    assert_eq 1000 "$(table_count orders_all)" "rows the routed load committed (--max-rejects $limit)"
    assert_eq "$(sorted_md5 plain)" "$(sorted_md5 orders_all)" "the routed rows against the plain load's"
    assert_same_file plain.rej routed.rej
    assert_same_file plain.rej.log routed.rej.log
  done
}

# Drift 3: the reject file starts at the committed size: empty without a
# resume key; with one, what the committed batches rejected (a run killed
# between writing a batch's rejects and its COMMIT leaves more).
test_routed_reject_file_starts_at_the_committed_size() {
  start_shards 2
  orders_over_shards hash 2
  plain_orders
  pggen -q --preset orders -n 3000 | awk 'NR == 10 { $3 = "abc" } { print }' OFS='\t' >bad.tsv
  local f
  for f in plain.rej routed.rej; do printf 'stale\n' >$f; printf 'stale\n' >$f.log; done
  run 3 pgcopy --batch-rows 1000 --reject-file plain.rej plain bad.tsv
  run 3 pgcopy --batch-rows 1000 --reject-file routed.rej orders_all bad.tsv
  assert_same_file plain.rej routed.rej
  assert_same_file plain.rej.log routed.rej.log
  # With a resume key: a first run stops at the third batch (a disk full on
  # row 2500, no fault of the row's) and commits two.
  sql "TRUNCATE plain, orders_all"
  local stop="CREATE FUNCTION stop_at_2500() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN
                IF NEW.id = 2500 THEN RAISE EXCEPTION 'no space left' USING ERRCODE = 'disk_full'; END IF;
                RETURN NEW; END \$\$"
  sql "$stop; CREATE TRIGGER stop BEFORE INSERT ON plain FOR EACH ROW EXECUTE FUNCTION stop_at_2500()"
  on_shard 1 "$stop; CREATE TRIGGER stop BEFORE INSERT ON orders_part FOR EACH ROW EXECUTE FUNCTION stop_at_2500()"
  on_shard 2 "$stop; CREATE TRIGGER stop BEFORE INSERT ON orders_part FOR EACH ROW EXECUTE FUNCTION stop_at_2500()"
  run 2 pgcopy --batch-rows 1000 --resume-key plain --reject-file plain.rej plain bad.tsv
  run 2 pgcopy --batch-rows 1000 --resume-key routed --reject-file routed.rej orders_all bad.tsv
  assert_contains "$err" "no space left"
  assert_eq 1999 "$(table_count orders_all)" "rows of the two batches committed (one rejected)"
  for f in plain.rej routed.rej; do printf 'stale\n' >>$f; printf 'stale\n' >>$f.log; done
  sql "DROP TRIGGER stop ON plain"
  on_shard 1 "DROP TRIGGER stop ON orders_part"
  on_shard 2 "DROP TRIGGER stop ON orders_part"
  run 3 pgcopy --batch-rows 1000 --resume-key plain --reject-file plain.rej plain bad.tsv
  # The engine's rerun counts the rejects of earlier runs too (status 3);
  # a routed rerun counts its own (status 0): not one of the four drifts.
  pgcopy -q --batch-rows 1000 --resume-key routed --reject-file routed.rej orders_all bad.tsv 2>err ||
    [ $? -eq 3 ] || fail "the routed rerun failed: $(cat err)"
  assert_eq 2999 "$(table_count orders_all)" "rows after the rerun"
  assert_eq "$(sorted_md5 plain)" "$(sorted_md5 orders_all)" "the routed rows against the plain load's"
  assert_same_file plain.rej routed.rej
  assert_same_file plain.rej.log routed.rej.log
  # Records an older pgcopy wrote hold no sizes: the files stay as they are
  # (here with a line such a run's rejects could have left).
  sql "UPDATE pgpipe.routed_batches SET reject_bytes = NULL, reject_log_bytes = NULL"
  printf 'older\n' >>routed.rej
  cp routed.rej older.rej
  run 0 pgcopy --batch-rows 1000 --resume-key routed --reject-file routed.rej orders_all bad.tsv
  assert_same_file older.rej routed.rej
}

# Drift 4: the rejects of a batch whose COMMIT fails are taken back: the
# reject file lists the rejects of committed batches only. Shard 1 checks a
# deferred unique constraint at COMMIT (deferred by a statement trigger, so
# whatever the load sets at BEGIN); the second batch breaks it.
test_routed_rejects_of_a_batch_whose_commit_fails_are_taken_back() {
  start_shards 2
  orders_over_shards range 2
  on_shard 1 "ALTER TABLE orders_part ADD CONSTRAINT one_per_status UNIQUE (status) DEFERRABLE INITIALLY DEFERRED;
              CREATE FUNCTION defer_checks() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN
                SET CONSTRAINTS ALL DEFERRED; RETURN NULL; END \$\$;
              CREATE TRIGGER defer BEFORE INSERT ON orders_part FOR EACH STATEMENT EXECUTE FUNCTION defer_checks()"
  printf '%s\t1\t%s\t%s\n' 1 1.00 s1 2 1.00 s2 3 abc s3 50001 1.00 s4 \
    4 1.00 dup 5 abc s5 6 1.00 dup 50002 1.00 s6 7 1.00 s7 8 1.00 s8 >in.tsv
  run 2 pgcopy --batch-rows 4 --reject-file routed.rej orders_all in.tsv
  assert_contains "$err" "COMMIT failed"
  assert_contains "$err" "one_per_status"
  assert_eq "1,2,50001" "$(sql "SELECT string_agg(id::text, ',' ORDER BY id) FROM orders_all")" "rows committed"
  # The engine's reject file for the batch that committed, loaded alone.
  mkdir first
  head -n 4 in.tsv >first/in.tsv
  plain_orders
  (cd first && run 3 pgcopy --batch-rows 4 --reject-file plain.rej plain in.tsv)
  assert_eq "$(printf '3\t1\tabc\ts3')" "$(cat routed.rej)" "the rejects of the committed batch"
  assert_same_file first/plain.rej routed.rej
  assert_same_file first/plain.rej.log routed.rej.log
}

# Drift 4, lost COMMIT: the coordinator's COMMIT of a batch goes through
# but its reply is lost (the backend, committed locally, waits for a
# synchronous standby that never comes and is terminated there). Its
# rejects stay: the rerun with the same --resume-key skips the batch, and
# the reject file must still hold its reject (design.md: a rerun may repeat
# a reject, never lose one). Oracle: the same load, uninterrupted. The
# coordinator is shard 3, whose settings this test may change.
test_routed_rejects_of_a_batch_whose_commit_reply_is_lost_are_kept() {
  start_shards 3
  restart_with "$servers/s3" "$(printf "wal_level = replica\nmax_wal_senders = 2\nsynchronous_standby_names = 'nobody'")"
  local k
  on_shard 3 "CREATE EXTENSION postgres_fdw;
              CREATE TABLE orders_all (id bigint NOT NULL, customer_id int, amount numeric(12,4), status text)
                PARTITION BY RANGE (id)"
  for k in 1 2; do
    on_shard $k "CREATE TABLE orders_part (id bigint PRIMARY KEY, customer_id int, amount numeric(12,4), status text)"
    on_shard 3 "CREATE SERVER shard$k FOREIGN DATA WRAPPER postgres_fdw
                  OPTIONS (host '$(. ./env$k; echo "$PGHOST")', port '$(. ./env$k; echo "$PGPORT")', dbname 'postgres');
                CREATE USER MAPPING FOR CURRENT_USER SERVER shard$k OPTIONS (user 'postgres');
                CREATE FOREIGN TABLE orders_p$k PARTITION OF orders_all
                  FOR VALUES FROM ($(( (k - 1) * 50000 + 1 ))) TO ($(( k * 50000 + 1 ))) SERVER shard$k
                  OPTIONS (table_name 'orders_part')"
  done
  printf '%s\t1\t1.00\ts\n' 1 2 200000 50001 3 4 200001 50002 >in.tsv # 200000, 200001: no partition (23514)
  # Its sessions commit without waiting (synchronous_commit off), but for pgcopy's.
  (source ./env3; run 3 pgcopy --batch-rows 4 --resume-key ref --reject-file ref.rej orders_all in.tsv)
  local ref_md5
  ref_md5=$(source ./env3; sorted_md5 orders_all)
  on_shard 3 "TRUNCATE orders_all"
  (source ./env3; PGOPTIONS='-c synchronous_commit=on' exec pgcopy -q --batch-rows 4 --resume-key cut \
    --reject-file cut.rej orders_all in.tsv) 2>lost.err &
  local pid=$! status=0
  (source ./env3; wait_for "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE wait_event = 'SyncRep')" \
    "the COMMIT waiting for the standby")
  on_shard 3 "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE wait_event = 'SyncRep'" >/dev/null
  wait $pid || status=$?
  assert_eq 2 "$status" "the run whose COMMIT reply was lost"
  assert_contains "$(cat lost.err)" "COMMIT failed"
  assert_eq 1 "$(on_shard 3 "SELECT count(*) FROM pgpipe.routed_batches WHERE key = 'cut'")" "the record of batch 1"
  (source ./env3; run 3 pgcopy --batch-rows 4 --resume-key cut --reject-file cut.rej orders_all in.tsv)
  assert_eq "$ref_md5" "$(source ./env3; sorted_md5 orders_all)" "the rows after the rerun"
  assert_same_file ref.rej cut.rej
  assert_same_file ref.rej.log cut.rej.log
  assert_contains "$(cat lost.err)" "unknown on: " # the lost run said what it could not know
}

# Routing keys are read by lib/io's copy_field_reader: CSV keys holding the
# delimiter, a line end, doubled quotes, quotes mid-field, under another quote
# and delimiter, empty against NULL, each land where the server's own hash
# puts the value COPY stores from the same line.
test_routed_csv_keys_are_read_as_copy_reads_them() {
  start_shards 1
  local k
  sql "CREATE TABLE notes (id int, k text) PARTITION BY HASH (k)"
  for k in 1 2 3; do
    on_shard 1 "CREATE TABLE notes_$k (id int, k text)"
    sql "CREATE FOREIGN TABLE notes_p$k PARTITION OF notes FOR VALUES WITH (modulus 3, remainder $((k - 1)))
           SERVER shard1 OPTIONS (table_name 'notes_$k')"
  done
  printf "1;'a;b'\n2;'it''s'\n3;'two\nlines'\n4;''\n5;\n6;plain\n7;'x'y'z'\n8;'\\\\N'\n9;NULL\n10;' lead'\n" >keys.csv
  run 0 pgcopy --route -F csv --delimiter ';' --quote "'" notes keys.csv
  assert_contains "$err" "routed"
  for k in 1 2 3; do
    assert_eq 0 "$(sql "SELECT count(*) FILTER (WHERE NOT satisfies_hash_partition('notes'::regclass, 3, $((k - 1)), k))
                         FROM (SELECT k FROM notes_p$k OFFSET 0) s")" "rows of partition $k"
  done
  assert_eq "1=a;b,2=it's,3=two|lines,4=,5=null,6=plain,7=xyz,8=\\N,9=NULL,10= lead" \
    "$(sql "SELECT string_agg(id || '=' || coalesce(replace(k, E'\n', '|'), 'null'), ',' ORDER BY id) FROM notes")"
}
