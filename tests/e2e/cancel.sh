# Ctrl-C (SIGINT) cancels the running statement in every path, not only the
# streamed load: each open connection's cancel handle is registered.

# slow_table: t(id int, name text) whose insert trigger sleeps 0.5 s a row,
# counting the rows it starts in the sequence started (which no rollback undoes).
slow_table() {
  sql "CREATE TABLE t (id int, name text)"
  sql "CREATE SEQUENCE started"
  sql "CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS
       'BEGIN PERFORM nextval(''started''); PERFORM pg_sleep(0.5); RETURN NEW; END'"
  sql "CREATE TRIGGER slow BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION slow()"
  seq 1 200 | awk '{print $1 "\tn" $1}' >rows.tsv
}

# interrupt_when_sleeping N CMD...: runs CMD, sends SIGINT once N of its
# backends sleep in the trigger, and prints its exit status and how many rows
# the trigger started from just before the signal to the end.
interrupt_when_sleeping() {
  local sleepers=$1
  shift
  "$@" 2>err &
  local pid=$! status=0
  wait_for "SELECT count(*) >= $sleepers FROM pg_stat_activity WHERE datname = current_database()
            AND wait_event = 'PgSleep'" "$sleepers backends in the slow trigger"
  local before
  before=$(sql "SELECT last_value FROM started")
  kill -INT "$pid"
  wait "$pid" || status=$?
  echo "$status $(($(sql "SELECT last_value FROM started") - before))"
}

# A load of 200 rows at 0.5 s each would take 100 s: it must end at once.
# Its batches hold 20 or more rows, a streamed load all 200: a load that went
# on with its batch would start far more rows than the SLEEPERS backends
# interrupted in one, with a row or two each of slack for a busy machine.
assert_cancelled() {
  local status rows sleepers=$2
  read -r status rows <<<"$1"
  assert_eq 130 "$status" "exit status after SIGINT"
  [ "$rows" -le $((3 * sleepers)) ] || fail "$rows rows were started after SIGINT"
  assert_eq 0 "$(sql "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
                      AND wait_event = 'PgSleep'")" "backends still in the slow trigger"
  no_backend_in_transaction
}

test_sigint_cancels_a_batched_load() {
  slow_table
  assert_cancelled "$(interrupt_when_sleeping 1 pgcopy --batch-rows 50 t rows.tsv)" 1
  assert_eq 0 "$(table_count t)"
}

test_sigint_cancels_every_job_of_a_parallel_load() {
  slow_table
  assert_cancelled "$(interrupt_when_sleeping 2 pgcopy --jobs 2 --batch-rows 20 t rows.tsv)" 2
  assert_eq 0 "$(table_count t)"
}

test_sigint_cancels_pginsert() {
  slow_table
  assert_cancelled "$(interrupt_when_sleeping 1 pginsert --strategy values t rows.tsv)" 1
}

test_sigint_cancels_a_streamed_load() {
  slow_table
  assert_cancelled "$(interrupt_when_sleeping 1 pgcopy t rows.tsv)" 1
  assert_eq 0 "$(table_count t)"
}
