# pgreport: snapshots, diffs, wrap mode and watch against a real server.

# json_field FILE SECTION NAME KEY: a number from a JSON report.
json_field() {
  python3 - "$@" <<'PY'
import json, sys
path, section, name, key = sys.argv[1:]
report = json.load(open(path))
for row in report["sections"]:
    if row["section"] == section and (name == "*" or row["name"] == name):
        print(row[key])
        break
else:
    sys.exit(f"no {section} {name} in {path}")
PY
}

# statement_lines FILE: the statements of a JSON report, one a line.
statement_lines() {
  python3 -c 'import json, sys
for row in json.load(open(sys.argv[1]))["sections"]:
    if row["section"] == "statement":
        print(row["name"])' "$1"
}

# What pgreport's own queries have (JSON built from the statistics views, its
# comment) and neither a load nor the test's own queries have.
own_query_pattern='json_|row_to_json|pg_stat_statements|pg_backend_pid|pg_control_system|pg_settings|pgreport'

test_a_load_of_n_rows_shows_n_inserted_and_wal() {
  orders
  run 0 pgreport --format json -o report.json -- sh -c 'pggen -q --preset orders -n 123457 | pgcopy -q orders'
  assert_eq 123457 "$(json_field report.json table public.orders inserted)" "n_tup_ins delta"
  [ "$(json_field report.json wal wal bytes)" -gt 0 ] || fail "no WAL bytes"
  statement_lines report.json >statements
  grep -q '^COPY "orders" FROM STDIN' statements || fail "the COPY statement is not in the report: $(cat statements)"
  own=$(grep -E "$own_query_pattern" statements || true)
  assert_eq "" "$own" "pgreport's own statements in the report"
}

test_wrap_mode_passes_output_and_exit_status() {
  for status in 0 1 3; do
    run "$status" pgreport -- sh -c "printf 'out\\tput\\n'; echo err >&2; exit $status"
    assert_eq "$(printf 'out\tput')" "$out" "stdout of the command, untouched"
    assert_contains "$err" "err"
    assert_contains "$err" "pgreport: "
  done
  run 1 pgreport --
  assert_contains "$err" "no command after --"
  run 127 pgreport -- sh -c 'exit 127'
}

test_snapshot_files_and_diff_formats() {
  orders
  run 0 pgreport snapshot -o before.json
  pggen -q --preset orders -n 5000 | pgcopy -q orders
  wait_for "SELECT n_tup_ins = 5000 FROM pg_stat_user_tables WHERE relid = 'orders'::regclass" \
    "the load's inserts in the statistics"
  run 0 pgreport snapshot -t orders -o after.json
  python3 -c "import json; s = json.load(open('after.json')); assert [t['name'] for t in s['tables']] == ['orders'], s['tables']"
  run 0 pgreport diff --format tsv before.json after.json
  assert_contains "$out" "$(printf 'table\tpublic.orders\tinserted\t5000')"
  run 0 pgreport diff --format json -o now.json before.json
  statement_lines now.json >statements
  grep -q '^COPY "orders" FROM STDIN' statements || fail "the COPY statement is not in the report: $(cat statements)"
  own=$(grep -E "$own_query_pattern" statements || true)
  assert_eq "" "$own" "pgreport's own statements in a diff of two runs"
  run 0 pgreport diff before.json
  assert_contains "$out" "public.orders"
  assert_contains "$out" "5,000"
  wide=$(awk 'length($0) > 80' out)
  assert_eq "" "$wide" "text report lines over 80 columns"
}

test_files_that_are_not_snapshots() {
  echo '{"a": 1}' >plain.json
  printf 'garbage' >garbage.json
  run 1 pgreport diff plain.json plain.json
  assert_contains "$err" '"plain.json" is not a pgreport snapshot'
  run 1 pgreport diff garbage.json garbage.json
  assert_contains "$err" "invalid JSON"
  run 1 pgreport diff missing.json
  assert_contains "$err" 'could not read "missing.json"'
  run 1 pgreport diff
  run 1 pgreport frobnicate
  assert_contains "$err" 'unknown command "frobnicate"'
}

test_missing_pg_stat_statements_is_a_note() {
  sql "CREATE DATABASE bare TEMPLATE template0"
  run 0 env PGDATABASE=bare pgreport snapshot -o bare.json
  grep -q 'statements left out: pg_stat_statements is not installed' bare.json || fail "no note"
  run 0 env PGDATABASE=bare pgreport diff bare.json
  assert_contains "$out" "note: statements left out"
}

test_watch_sees_a_running_copy() {
  sql "CREATE TABLE slow (id int, w text)"
  # The feed stays open, and the COPY running, until the watch is done.
  (pggen -q -n 1000 'id=seq' 'w=words'; wait_until "the watch to end" test -e watched) | pgcopy -q slow &
  local loader=$!
  wait_for_copy
  run 0 pgreport watch --format tsv -i 0.2 --count 3
  touch watched
  wait "$loader"
  assert_contains "$out" "$(printf 'slow\tCOPY FROM\tPIPE')"
  run 0 pgreport watch --count 1
  assert_contains "$out" "no COPY running"
}

# watch_readings_at_least N: whether ./watch.out holds N readings of the
# watch $watch_pid; fails if the watch has ended.
watch_readings_at_least() {
  [ "$(grep -c 'no COPY running' watch.out)" -ge "$1" ] && return 0
  kill -0 "$watch_pid" 2>/dev/null || fail "the watch ended: $(cat watch.err)"
  return 1
}

# interrupt_watch SIGNAL ARGS...: runs pgreport watch ARGS... (stdout to
# ./watch.out, stderr to ./watch.err), sends SIGNAL once it has printed its
# second reading (so it is in its loop), and leaves its exit status in
# $watch_status.
interrupt_watch() {
  local signal=$1
  shift
  pgreport watch "$@" >watch.out 2>watch.err &
  watch_pid=$!
  wait_until "two readings of the watch" watch_readings_at_least 2
  kill -"$signal" "$watch_pid"
  watch_status=0
  wait "$watch_pid" || watch_status=$?
}

test_watch_ends_with_interrupted_on_sigint_and_sigterm() {
  interrupt_watch INT -i 0.05
  assert_eq 130 "$watch_status" "exit status after SIGINT"
  assert_contains "$(cat watch.err)" "pgreport: error: interrupted by SIGINT"
  interrupt_watch TERM -i 0.05
  assert_eq 143 "$watch_status" "exit status after SIGTERM"
  assert_contains "$(cat watch.err)" "pgreport: error: interrupted by SIGTERM"
}

# A signal ends the watch in the middle of a long interval, not at its end.
test_watch_ends_at_a_signal_during_a_long_interval() {
  pgreport watch -i 3600 >watch.out 2>watch.err &
  watch_pid=$!
  wait_until "the first reading of the watch" watch_readings_at_least 1
  kill -INT "$watch_pid"
  # (A process that has ended stays a zombie until waited for: its message says it ended.)
  wait_until "the watch's end within its hour-long interval" grep -q "interrupted by SIGINT" watch.err
  watch_status=0
  wait "$watch_pid" || watch_status=$?
  assert_eq 130 "$watch_status" "exit status after SIGINT"
}

test_watch_count_0_is_unlimited() {
  # It goes on, reading after reading, until a signal ends it.
  interrupt_watch INT -i 0.01 --count 0
  assert_eq 130 "$watch_status" "exit status after SIGINT: $(cat watch.err)"
}

# backend_writes_at_least N: whether a diff against ./before.json shows N or
# more buffers written by backends; the figure stays in $wait_last.
backend_writes_at_least() {
  pgreport diff --format json -o diff.json before.json &&
    wait_last=$(json_field diff.json checkpoints checkpoints backend_buffer_writes) &&
    [ "${wait_last%.*}" -ge "$1" ]
}

# Every page a load adds is a buffer its session extended; up to 15
# buffers_backend counted those with the writes, from 16 pg_stat_io counts
# them apart, and the report adds them up so that it means one thing.
test_buffers_written_by_backends_count_the_load_pages() {
  sql "CREATE TABLE filled (id int, w text)"
  run 0 pgreport snapshot -o before.json
  pggen -q -n 100000 'id=seq' 'w=words' | pgcopy -q filled
  sql "CHECKPOINT" >/dev/null # up to 15 the checkpointer publishes what the sessions wrote
  local pages
  pages=$(sql "SELECT pg_relation_size('filled') / 8192")
  [ "$pages" -gt 100 ] || fail "only $pages pages loaded"
  wait_until "the load's $pages pages among the buffers written by backends" \
    backend_writes_at_least "$pages"
}
