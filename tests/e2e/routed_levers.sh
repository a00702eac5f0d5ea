# Routed loads with the engine's levers (issue 22, "What to build" 2):
# --jobs, --retries, --reserve-ids and kill -9 with --jobs, each exact.

# The shards and tables of the routed suite, without its tests.
source "$PGPIPE_ROOT/tests/e2e/routed.sh"
# shellcheck disable=SC2046 # one name a word
unset -f $(declare -F | awk '$3 ~ /^test_/ {print $3}')

# ended_or PID CMD...: whether pgcopy (PID) has ended, or CMD succeeds: a
# wait for a state of the load that a refused load never reaches.
ended_or() {
  local pid=$1
  shift
  ! kill -0 "$pid" 2>/dev/null || "$@"
}

# still_loading PID: fails with pgcopy's messages if it has ended.
still_loading() {
  local status=0
  kill -0 "$1" 2>/dev/null && return 0
  wait "$1" || status=$?
  fail "pgcopy ended (status $status) before the state the test waits for: $(cat err)"
}

# shard_copy_running [N]: whether N (1) COPYs of pgcopy run at once on the
# server the helpers talk to.
shard_copy_running() {
  query_is_true "SELECT count(*) >= ${1:-1} FROM pg_stat_activity WHERE datname = current_database()
                 AND application_name = 'pgcopy' AND state = 'active' AND query LIKE 'COPY%'"
}

# load_past_locked_shard1 COPIES THEN PGCOPY_ARG...: pgcopy (on the
# coordinator) while shard 1's table is locked, until COPIES of its COPYs
# wait there; then THEN runs against shard 1, the lock goes, and pgcopy
# must end with status 0 (its messages in err).
load_past_locked_shard1() {
  local copies=$1 then=$2
  local coordinator=(env PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER="$PGUSER" PGDATABASE="$PGDATABASE")
  shift 2
  (
    source ./env1 # the helpers below talk to shard 1
    lock_table orders_part SHARE # what a COPY's ROW EXCLUSIVE waits for
    "${coordinator[@]}" pgcopy "$@" 2>err &
    loader=$!
    wait_until "$copies COPYs of pgcopy on shard 1" ended_or "$loader" shard_copy_running "$copies"
    still_loading "$loader"
    $then
    unlock_table
    status=0
    wait "$loader" || status=$?
    assert_eq 0 "$status" "pgcopy status: $(cat err)"
  )
}

# Two loaders per shard: shard 1's table locked, two COPYs of the load wait
# there at once; then the whole is exact.
test_routed_load_with_jobs_2_is_exact() {
  start_shards 2
  orders_over_shards hash 2
  pggen -q --preset orders -n 100k >input.tsv
  load_past_locked_shard1 2 : --route --jobs 2 --batch-rows 5k orders_all input.tsv
  assert_contains "$(cat err)" "routed"
  local k total=0
  for k in 1 2; do
    assert_eq 0 "$(misplaced $k 2)" "rows on shard $k the server would hash elsewhere"
    total=$(( total + $(on_shard $k "SELECT count(*) FROM orders_part") ))
  done
  assert_eq 100000 "$total" "rows on the shards"
  assert_eq "$(rows_md5 input.tsv)" "$(sorted_md5 orders_all)" "the whole equals the input"
}

# A shard's connection is terminated while its COPY waits on a lock: the
# load reconnects, learns what committed, and ends with every row once.
test_routed_load_retries_after_a_shard_loses_its_connection() {
  start_shards 2
  orders_over_shards hash 2
  pggen -q --preset orders -n 50k >input.tsv
  load_past_locked_shard1 1 "terminate_loads 2" --route --retries 5 --batch-rows 5k orders_all input.tsv
  grep -q "retrying in" err || fail "no retry happened: $(cat err)"
  assert_eq "$(rows_md5 input.tsv)" "$(sorted_md5 orders_all)" "the whole after the retries"
  assert_eq 50000 "$(sql "SELECT count(DISTINCT id) FROM orders_all")" "no row twice"
}

# Ids are reserved from the coordinator's sequence before routing: each row
# gets the id a plain load would give it, and goes to that id's shard.
test_routed_load_reserves_ids_on_the_coordinator() {
  start_shards 2
  orders_over_shards range 2
  sql "CREATE SEQUENCE orders_all_id_seq OWNED BY orders_all.id;
       ALTER TABLE orders_all ALTER COLUMN id SET DEFAULT nextval('orders_all_id_seq')"
  sql "CREATE TABLE plain (id bigserial PRIMARY KEY, customer_id int, amount numeric(12,4), status text)"
  pggen -q --preset orders -n 100k | cut -f 2- >input.tsv
  run 0 pgcopy --reserve-ids --batch-rows 7k -c customer_id,amount,status plain input.tsv
  run 0 pgcopy --route --reserve-ids --batch-rows 7k -c customer_id,amount,status orders_all input.tsv
  assert_eq "50000|1|50000" "$(on_shard 1 "SELECT count(*), min(id), max(id) FROM orders_part")" "shard 1's ids"
  assert_eq "50000|50001|100000" "$(on_shard 2 "SELECT count(*), min(id), max(id) FROM orders_part")" "shard 2's ids"
  assert_eq "$(sorted_md5 plain)" "$(sorted_md5 orders_all)" "each row with the id a plain load gives it"
  assert_eq 100000 "$(sql "SELECT last_value FROM orders_all_id_seq")" "the sequence after the load"
}

test_routed_jobs_2_resume_key_holds_across_kill_9() {
  start_shards 2
  orders_over_shards hash 2
  pggen -q --preset orders -n 300k >input.tsv
  pgcopy -q --route --jobs 2 --batch-rows 2k --resume-key routed orders_all input.tsv 2>err &
  local pid=$! k
  wait_until "a batch committed on shard 2" ended_or "$pid" shard_has_rows 2
  shard_has_rows 2 || still_loading "$pid"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  local before=0
  for k in 1 2; do before=$(( before + $(on_shard $k "SELECT count(*) FROM orders_part") )); done
  [ "$before" -lt 300000 ] || skip "the load finished before the kill"
  run 0 pgcopy --route --jobs 2 --batch-rows 2k --resume-key routed orders_all input.tsv
  for k in 1 2; do
    assert_eq 0 "$(misplaced $k 2)" "rows on shard $k the server would hash elsewhere"
  done
  # The primary keys on the shards refuse a second copy of a row; the whole
  # equals the input, so none is missing either.
  assert_eq "$(rows_md5 input.tsv)" "$(sorted_md5 orders_all)" "the whole after the rerun"
  run 0 pgcopy --route --jobs 2 --batch-rows 2k --resume-key routed orders_all input.tsv
  assert_eq 300000 "$(table_count orders_all)" "rows after a third run"
}

# --fast on a routed load: its plan printed by -v (rows as read, the shards'
# keys kept), the rows exact; --send-binary is refused with its reason.
test_routed_fast_load_is_exact_and_says_its_plan() {
  start_shards 2
  orders_over_shards hash 2
  pggen -q --preset orders -n 50k >input.tsv
  run 0 pgcopy -v --route --fast orders_all input.tsv
  assert_contains "$err" "rows sent to the shards as read"
  assert_contains "$err" "plan: indexes and constraints kept: they live on the shards"
  assert_contains "$err" "routed"
  assert_eq "$(rows_md5 input.tsv)" "$(sorted_md5 orders_all)" "the whole equals the input"
  run 1 pgcopy --route --send-binary orders_all input.tsv
  assert_contains "$err" "encodes for the coordinator's column types"
}
