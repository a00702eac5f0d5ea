# Parallel loads: pgcopy --jobs, pggen --shard with xargs -P, and a
# partitioned target whose partitions live on other servers (postgres_fdw).

test_jobs_load_every_format_and_zstd_exactly() {
  orders
  pggen -q --preset orders -n 200k >input.tsv
  local expected
  expected=$(expected_md5 input.tsv)
  pggen -q --preset orders -n 200k -F csv >input.csv
  pggen -q --preset orders -n 200k -F binary >input.bin
  zstd -q input.tsv -o input.tsv.zst
  for case in "text input.tsv" "csv input.csv" "binary input.bin" "text input.tsv.zst"; do
    set -- $case
    sql "TRUNCATE orders"
    run 0 pgcopy --jobs 3 --batch-rows 7k -F "$1" --stats stats.json orders "$2"
    assert_contains "$err" "200,000 rows"
    assert_contains "$err" "by 3 jobs"
    assert_eq "$expected" "$(sorted_md5 orders)" "table after --jobs 3 from $2"
    # Each job committed some batches, and the jobs' rows add up.
    python3 - <<'PY'
import json
s = json.load(open("stats.json"))
assert s["jobs"] == 3 and len(s["job_rows"]) == 3, s
assert sum(s["job_rows"]) == s["rows"] == 200000, s
assert all(n > 0 for n in s["job_rows"]), s
PY
  done
  no_backend_in_transaction
}

test_jobs_reject_bad_rows_with_their_lines() {
  orders
  pggen -q --preset orders -n 100k >good.tsv
  # Every 997th line is broken.
  awk 'NR % 997 == 0 { print "x" $0; print NR >"expected_lines"; next } { print }' good.tsv >input.tsv
  run 3 pgcopy --jobs 2 --batch-rows 5k --reject-file rejects.tsv orders input.tsv
  assert_contains "$err" "100 rows rejected"
  assert_eq 99900 "$(table_count orders)"
  # Out of input order across jobs, but each with its own line number.
  tail -n +2 rejects.tsv.log | cut -f2 | sort -n >logged_lines
  cmp -s expected_lines logged_lines || fail "the log's line numbers differ from the broken lines"
  sed 's/^x//' rejects.tsv | pgcopy -q orders
  assert_eq "$(expected_md5 good.tsv)" "$(sorted_md5 orders)" "table after loading the fixed rows"
}

test_jobs_max_rejects_stops_the_load() {
  orders
  pggen -q --preset orders -n 50k | awk 'NR % 400 == 0 { $0 = "x" $0 } { print }' >input.tsv
  run 3 pgcopy --jobs 2 --batch-rows 5k --reject-file rejects.tsv --max-rejects 50 orders input.tsv
  assert_contains "$err" "more than --max-rejects 50"
  assert_contains "$err" "not in input order"
  # What committed is whole batches, and the reject file holds exactly their rejects.
  local loaded rejected
  loaded=$(table_count orders)
  rejected=$(wc -l <rejects.tsv)
  assert_eq 0 "$(( (loaded + rejected) % 5000 ))" "whole batches: $loaded loaded, $rejected rejected"
  assert_eq "$rejected" "$(( $(wc -l <rejects.tsv.log) - 1 ))" "reject file and log agree"
}

test_jobs_upsert_half_conflicting() {
  orders
  pggen -q --preset orders -n 50k | pgcopy -q orders
  pggen -q --preset orders -n 100k --start 25001 'amount=numeric(1000,2000,2)' 'status=cycle(new)' >upsert.tsv
  run 0 pgcopy --jobs 2 --on-conflict update --batch-rows 10k orders upsert.tsv
  assert_eq 125000 "$(table_count orders)"
  assert_eq 100000 "$(sql "SELECT count(*) FROM orders WHERE status = 'new' AND amount >= 1000")" "updated and new rows"
  assert_eq 25000 "$(sql "SELECT count(*) FROM orders WHERE id <= 25000 AND amount < 1000")" "untouched rows"
  sql "TRUNCATE orders"
  pggen -q --preset orders -n 30k | pgcopy -q orders
  run 0 pgcopy --jobs 2 --on-conflict ignore --batch-rows 10k orders upsert.tsv
  assert_contains "$err" "conflicting rows skipped"
  assert_eq 125000 "$(table_count orders)"
}

test_kill_9_then_resume_with_jobs_2_gives_exactly_the_input() {
  orders
  pggen -q --preset orders -n 2M >input.tsv
  local expected
  expected=$(expected_md5 input.tsv)
  # Three runs, each killed once it has committed a batch of its own.
  local ranges=0 round
  for round in 1 2 3; do
    pgcopy -q --jobs 2 --batch-rows 30k --resume-key par orders input.tsv 2>>loader.err &
    local loader=$!
    wait_for "SELECT count(*) > $ranges FROM pgpipe.load_batches WHERE key = 'par'" "a batch committed by run $round"
    kill -9 "$loader" 2>/dev/null || true
    wait "$loader" 2>/dev/null || true
    ranges=$(sql "SELECT count(*) FROM pgpipe.load_batches WHERE key = 'par'")
  done
  assert_eq f "$(sql "SELECT finished FROM pgpipe.load_progress WHERE key = 'par'")" "finished before the third kill"
  run 0 pgcopy --jobs 2 --batch-rows 30k --resume-key par orders input.tsv
  assert_contains "$err" "resuming"
  assert_eq "$expected" "$(sorted_md5 orders)" "table after the kills and a resume"
  assert_eq 2000000 "$(sql 'SELECT count(DISTINCT id) FROM orders')" "no duplicates"
  assert_eq "t|2000000" "$(sql "SELECT finished, rows_loaded FROM pgpipe.load_progress WHERE key = 'par'")"
  assert_eq 0 "$(sql "SELECT count(*) FROM pgpipe.load_batches WHERE key = 'par'")" "ranges are cleared at the end"
}

test_resume_may_change_jobs_and_batch_size() {
  orders
  pggen -q --preset orders -n 300k >whole.tsv
  # A first run with three jobs reads the first 100,000 rows from a pipe that
  # then stalls: its 14 full batches of 7,000 rows commit, and it is killed.
  mkfifo input.tsv
  { head -n 100000 whole.tsv; exec sleep infinity; } >input.tsv &
  local writer=$!
  pgcopy -q --jobs 3 --batch-rows 7k --resume-key mix orders input.tsv 2>loader.err &
  local loader=$!
  wait_for "SELECT count(*) = 14 FROM pgpipe.load_batches WHERE key = 'mix'" "the 14 batches of the first run"
  kill -9 "$loader" "$writer" 2>/dev/null || true
  wait "$loader" "$writer" 2>/dev/null || true
  assert_eq 14 "$(sql "SELECT count(*) FROM pgpipe.load_batches WHERE key = 'mix'")" "batches of the first run: $(cat loader.err)"
  # Jobs commit out of order: as if batches 1 and 6 had not committed when it died.
  sql "DELETE FROM pgpipe.load_batches WHERE key = 'mix' AND start_offset IN
         (SELECT start_offset FROM pgpipe.load_batches WHERE key = 'mix' ORDER BY start_offset LIMIT 1)
         OR start_offset IN (SELECT start_offset FROM pgpipe.load_batches WHERE key = 'mix'
                             ORDER BY start_offset OFFSET 5 LIMIT 1)"
  sql "DELETE FROM orders WHERE id <= 7000 OR id BETWEEN 35001 AND 42000"
  # The same input, complete now, resumed by one job with other batches.
  rm input.tsv
  cp whole.tsv input.tsv
  run 0 pgcopy --batch-rows 50k --resume-key mix orders input.tsv
  assert_contains "$err" "resuming"
  assert_eq "$(expected_md5 whole.tsv)" "$(sorted_md5 orders)" "table after resuming with one job"
  assert_eq 300000 "$(sql 'SELECT count(DISTINCT id) FROM orders')" "no duplicates"
}

test_jobs_retry_a_terminated_backend() {
  orders
  pggen -q --preset orders -n 600k >input.tsv
  load_through_terminations 2 orders pgcopy --jobs 2 --batch-rows 20k --retries 5 orders input.tsv
  assert_eq "$(expected_md5 input.tsv)" "$(sorted_md5 orders)" "table after the retries"
  assert_eq 0 "$(sql "SELECT count(*) FROM pgpipe.load_batches")" "the run's own ranges are gone"
}

test_jobs_truncate_replaces_the_rows_and_options_are_checked() {
  orders
  pggen -q --preset orders -n 10k --start 500001 | pgcopy -q orders
  pggen -q --preset orders -n 100k >input.tsv
  run 0 pgcopy --jobs 3 --batch-rows 2k --truncate orders input.tsv
  assert_eq 100000 "$(table_count orders)"
  assert_eq 0 "$(sql 'SELECT count(*) FROM orders WHERE id > 500000')" "old rows are gone"
  run 1 pgcopy --jobs 2 --single-transaction orders input.tsv
  assert_contains "$err" "--single-transaction cannot be used with --jobs"
  run 1 pgcopy --jobs 0 orders input.tsv
  assert_contains "$err" "--jobs must be between 1 and 64"
  # An error in the input stops every job; what committed is said.
  { head -n 50000 input.tsv; printf 'broken\n'; } >bad.tsv
  sql "TRUNCATE orders"
  run 2 pgcopy --jobs 2 --batch-rows 10k orders bad.tsv
  assert_contains "$err" "bad.tsv:50001"
  assert_contains "$err" "rows were committed"
  no_backend_in_transaction
}

test_pggen_shards_through_xargs_load_the_whole() {
  orders
  pggen -q --preset orders -n 200k >whole.tsv
  # Four generators, each with its own pgcopy, all at once.
  printf '%s\n' 1 2 3 4 | xargs -P 4 -I{} sh -c 'pggen -q --preset orders -n 200k --shard {}/4 | pgcopy -q orders'
  assert_eq 200000 "$(table_count orders)"
  assert_eq "$(expected_md5 whole.tsv)" "$(sorted_md5 orders)" "four shards equal the whole"
}

test_partitioned_target_on_three_servers_via_postgres_fdw() {
  # Three more servers, each holding one range of ids.
  # (In a short directory: a Unix socket's path is limited to 107 bytes.)
  local k servers
  servers=$(mktemp -d /tmp/pgfdw.XXXXXX)
  chmod 755 "$servers"
  trap 'for k in 1 2 3; do pgsandbox -q stop "'"$servers"'/s$k" >/dev/null 2>&1; done; rm -rf "'"$servers"'"' EXIT
  for k in 1 2 3; do
    pgsandbox -q start "$servers/s$k" >env$k
  done
  sql "CREATE EXTENSION postgres_fdw"
  sql "CREATE TABLE orders_all (id bigint NOT NULL, customer_id int, amount numeric(12,4),
         status text) PARTITION BY RANGE (id)"
  for k in 1 2 3; do
    (
      source env$k
      sql "CREATE TABLE orders_part (id bigint NOT NULL, customer_id int, amount numeric(12,4),
             status text)"
    )
    local host port
    host=$(. ./env$k; echo "$PGHOST")
    port=$(. ./env$k; echo "$PGPORT")
    sql "CREATE SERVER shard$k FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '$host', port '$port', dbname 'postgres', batch_size '1000')"
    sql "CREATE USER MAPPING FOR CURRENT_USER SERVER shard$k OPTIONS (user 'postgres')"
    sql "CREATE FOREIGN TABLE orders_p$k PARTITION OF orders_all
           FOR VALUES FROM ($(( (k - 1) * 100000 + 1 ))) TO ($(( k * 100000 + 1 ))) SERVER shard$k
           OPTIONS (table_name 'orders_part')"
  done
  pggen -q --preset orders -n 300k >input.tsv
  # Each job's batches are routed row by row to the three servers.
  run 0 pgcopy --jobs 3 --batch-rows 20k orders_all input.tsv
  assert_contains "$err" "300,000 rows"
  assert_eq 300000 "$(table_count orders_all)" "rows seen through the partitioned table"
  for k in 1 2 3; do
    local counts
    counts=$(source ./env$k; sql "SELECT count(*), min(id), max(id) FROM orders_part")
    assert_eq "100000|$(( (k - 1) * 100000 + 1 ))|$(( k * 100000 ))" "$counts" "server $k holds its range"
  done
  psql -XAtq -c "COPY (SELECT * FROM orders_all ORDER BY id) TO STDOUT" >got.tsv
  sql "CREATE TABLE reference (LIKE orders_all)"
  pgcopy -q reference input.tsv
  psql -XAtq -c "COPY (SELECT * FROM reference ORDER BY id) TO STDOUT" >want.tsv
  cmp -s got.tsv want.tsv || fail "the partitioned table differs from the input"
  # One streamed COPY routes the same way (PostgreSQL 15 sends foreign
  # partitions one INSERT per row, so a tenth of the rows will do).
  # (--truncate empties the foreign partitions too, in the load's transaction.)
  awk 'NR % 10 == 0' input.tsv >tenth.tsv
  run 0 pgcopy --truncate orders_all tenth.tsv
  for k in 1 2 3; do
    assert_eq 10000 "$(source ./env$k; sql "SELECT count(*) FROM orders_part")" "server $k after the streamed load"
  done
}

test_jobs_cut_enough_batches_for_every_connection_by_default() {
  orders
  pggen -q --preset orders -n 300k >input.tsv   # about 9 MB: 1 MiB batches for 2 jobs
  run 0 pgcopy --jobs 2 --stats s.json orders input.tsv
  python3 -c "import json; s = json.load(open('s.json')); assert s['batches'] >= 8 and all(r > 0 for r in s['job_rows']), s"
  assert_eq 300000 "$(table_count orders)"
}
