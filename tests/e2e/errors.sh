# Bad input and failures: each gets a clear message naming where, the exit
# code of docs/design.md, and nothing half-committed.

orders_table() {
  sql "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int NOT NULL,
         amount numeric(12,4) NOT NULL, status varchar(32) NOT NULL)"
}

# orders_rows N: N valid rows of text COPY data on stdout.
orders_rows() {
  awk -v n="$1" 'BEGIN { for (i = 1; i <= n; i++) printf "%d\t%d\t%d.99\t%s\n", i, i % 10000, i % 500, (i % 3 ? "pending" : "completed") }'
}

test_missing_table_is_named() {
  orders_rows 3 >rows.tsv
  run 2 pgcopy no_such_table rows.tsv
  assert_contains "$err" 'relation "no_such_table" does not exist'
  assert_contains "$err" "nothing was committed"
}

test_missing_column_is_named() {
  orders_table
  orders_rows 3 >rows.tsv
  run 2 pgcopy -c id,customer_id,amount,nope orders rows.tsv
  assert_contains "$err" 'column "nope" of relation "orders" does not exist'
}

test_wrong_column_count_names_file_and_line() {
  orders_table
  orders_rows 5 >bad.tsv
  printf '6\t1\t2.5\tpending\textra\n' >>bad.tsv
  orders_rows 3 | sed 's/^/1000/' >>bad.tsv
  run 2 pgcopy orders bad.tsv
  assert_contains "$err" "pgcopy: error: bad.tsv:6: extra data after last expected column"
  assert_contains "$err" "context: COPY orders, line 6"
  assert_eq 0 "$(table_count orders)" "rows committed"
  printf '1\t2\n' >short.tsv
  run 2 pgcopy orders short.tsv
  assert_contains "$err" "short.tsv:1: missing data for column"
}

test_bad_value_in_later_file_names_that_file() {
  orders_table
  orders_rows 10 >good.tsv
  printf '11\t1\tnot-a-number\tpending\n' | zstd -q -c >bad.tsv.zst
  run 2 pgcopy orders good.tsv bad.tsv.zst
  assert_contains "$err" "bad.tsv.zst:1: invalid input syntax for type numeric"
  assert_eq 0 "$(table_count orders)" "rows committed (the first file too)"
}

test_truncated_zstd_commits_nothing() {
  orders_table
  orders_rows 300000 | zstd -q -c >full.zst
  local size cut
  size=$(stat -c %s full.zst)
  cut=$((size * 3 / 4))
  head -c "$cut" full.zst >cut.zst
  run 1 pgcopy orders cut.zst
  assert_contains "$err" "truncated zstd frame: input ends at byte offset $cut inside a frame"
  assert_contains "$err" "nothing was committed"
  assert_eq 0 "$(table_count orders)" "rows committed"
  no_backend_in_transaction
  # The same through a pipe.
  run 1 sh -c 'cat cut.zst | pgcopy orders'
  assert_contains "$err" '"stdin": truncated zstd frame'
}

test_corrupt_zstd_is_refused() {
  orders_table
  orders_rows 50000 | zstd -q -c >good.zst
  python3 - <<'PY'
data = bytearray(open("good.zst", "rb").read())
for i in range(2000, 2600):
    data[i] ^= 0x5A
open("bad.zst", "wb").write(data)
PY
  run 1 pgcopy orders bad.zst
  assert_contains "$err" "corrupt zstd data near byte offset"
  assert_eq 0 "$(table_count orders)" "rows committed"
}

test_unreadable_inputs_are_named() {
  orders_table
  orders_rows 3 >rows.tsv
  run 1 pgcopy orders rows.tsv missing.tsv
  assert_contains "$err" 'could not open "missing.tsv": No such file or directory'
  mkdir adir
  run 1 pgcopy orders adir
  assert_contains "$err" 'could not read "adir": Is a directory'
  assert_eq 0 "$(table_count orders)" "rows committed"
}

test_refused_connection() {
  orders_rows 3 >rows.tsv
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  run 2 pgcopy -h 127.0.0.1 -p "$port" -w orders rows.tsv
  assert_contains "$err" "Connection refused"
  assert_contains "$err" "pgcopy: error: connection to server"
}

test_password_is_never_printed() {
  orders_rows 3 >rows.tsv
  run 2 pgcopy -w -d "postgresql://someone:sekrit-pw@127.0.0.1:1/x?connect_timeout=3" orders rows.tsv
  assert_not_contains "$err" "sekrit"
  run 2 pgcopy -w -d "host=127.0.0.1 port=1 password=sekrit-pw connect_timeout=3" orders rows.tsv
  assert_not_contains "$err" "sekrit"
  run 2 pgcopy -w -d "host=$PGHOST user=no_such_role password=sekrit-pw" orders rows.tsv
  assert_contains "$err" 'role "no_such_role" does not exist'
  assert_not_contains "$err" "sekrit"
}

test_usage_errors_exit_1_before_connecting() {
  run 1 pgcopy --freeze orders x
  assert_contains "$err" "--freeze needs --truncate"
  run 1 pgcopy --quote "'" orders x
  assert_contains "$err" "--quote cannot be used with format text"
  run 1 pgcopy -F binary --header orders x
  run 1 pgcopy -F tsv orders x
  assert_contains "$err" 'unknown format "tsv"'
  run 1 pgcopy </dev/null
  assert_contains "$err" "no table given, and stdin is not a script stream"
  assert_contains "$err" "name the table to load: pgcopy TABLE [FILE]..."
  run 1 pgcopy '"unterminated' x
  assert_contains "$err" "unterminated quoted identifier"
  run 1 pgcopy -c 'a,,b' orders x
}

test_backend_terminated_mid_load() {
  orders_table
  # A producer that never ends until the load is cut off.
  load_from_feed 'orders_rows 100000000' sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
       WHERE datname = current_database() AND query LIKE 'COPY%'"
  assert_eq 2 "$status" "exit status"
  assert_contains "$(cat err)" "terminating connection due to administrator command"
  assert_contains "$(cat err)" "nothing was committed"
  assert_eq 0 "$(table_count orders)" "rows committed"
}

# load_from_feed PRODUCER ACTION...: pgcopy loads orders from a fifo that
# the shell command PRODUCER writes; once the COPY runs, ACTION runs (with
# $loader, pgcopy's pid). Sets $status to pgcopy's exit status.
load_from_feed() {
  local producer_command=$1
  shift
  mkfifo feed
  (eval "$producer_command" >feed 2>/dev/null || true) &
  local producer=$!
  pgcopy orders feed 2>err &
  loader=$!
  wait_for_copy
  "$@" >/dev/null
  status=0
  wait "$loader" || status=$?
  kill "$producer" 2>/dev/null || true
}

# interrupt_loader SIGNAL: once pgcopy waits in read() for more of the feed,
# the signal to it.
interrupt_loader() {
  wait_until "pgcopy waiting for more of the feed" reading_a_pipe "$loader"
  kill "-$1" "$loader"
}

test_server_dies_mid_load() {
  # A cluster of our own, since this one gets killed.
  eval "$(pgsandbox -q start "$TEST_DIR/own")"
  local bindir owner=()
  bindir=$(sed -n 's/^bindir=//p' "$PGHOST/.pgsandbox")
  [ "$(id -u)" = 0 ] && owner=(runuser -u postgres --)
  orders_table
  # The sandbox commits asynchronously (synchronous_commit off): without a
  # checkpoint the immediate stop may lose the table itself, not only the load.
  sql "CHECKPOINT"
  (orders_rows 100000000 2>/dev/null || true) | pgcopy orders 2>err &
  local loader=$! status=0
  wait_for_copy 1
  "${owner[@]}" "$bindir/pg_ctl" -D "$PGHOST/data" -m immediate stop >/dev/null
  wait "$loader" || status=$?
  "${owner[@]}" "$bindir/pg_ctl" -D "$PGHOST/data" -l "$PGHOST/server.log" -w start >/dev/null
  local count
  count=$(table_count orders)
  pgsandbox -q stop "$PGHOST"
  assert_eq 2 "$status" "exit status"
  assert_contains "$(cat err)" "nothing was committed"
  assert_eq 0 "$count" "rows after the restart"
}

test_sigint_while_reading_rolls_back() {
  orders_table
  # Some rows, then silence: pgcopy is blocked in read() when the signal comes.
  load_from_feed '{ orders_rows 1000; exec sleep infinity; }' interrupt_loader INT
  assert_eq 130 "$status" "exit status (death by SIGINT)"
  assert_contains "$(cat err)" "interrupted by SIGINT"
  assert_contains "$(cat err)" "nothing was committed"
  assert_eq 0 "$(table_count orders)" "rows committed"
  no_backend_in_transaction
}

test_sigterm_while_sending_rolls_back() {
  orders_table
  (orders_rows 100000000 2>/dev/null || true) | pgcopy orders 2>err &
  local loader=$! status=0
  wait_for_copy 1
  pkill -TERM -x pgcopy -P $$ || kill -TERM "$loader"
  wait "$loader" || status=$?
  [ "$status" -ne 0 ] || fail "pgcopy exited 0 after SIGTERM"
  assert_contains "$(cat err)" "interrupted by SIGTERM"
  assert_eq 0 "$(table_count orders)" "rows committed"
  no_backend_in_transaction
}

test_commit_refused_by_deferred_constraint() {
  sql "CREATE TABLE parent (id int PRIMARY KEY)"
  sql "CREATE TABLE child (id int, parent_id int REFERENCES parent DEFERRABLE INITIALLY DEFERRED)"
  printf '1\t1\n2\t999\n' >rows.tsv
  run 2 pgcopy child rows.tsv
  assert_contains "$err" "violates foreign key constraint"
  assert_contains "$err" "nothing was committed: the server refused the COMMIT"
  assert_eq 0 "$(table_count child)" "rows committed"
}

test_hostile_table_names_are_quoted() {
  sql "CREATE TABLE victim (a int)"
  printf '1\n' >one.tsv
  run 1 pgcopy 'victim; DROP TABLE victim' one.tsv
  assert_contains "$err" "unexpected character 'D' in name"
  run 1 pgcopy 'victim(a); DROP TABLE victim' one.tsv
  run 1 pgcopy -c 'a); DROP TABLE victim; --' victim one.tsv
  run 2 pgcopy '"victim; DROP TABLE victim"' one.tsv
  assert_contains "$err" 'relation "victim; DROP TABLE victim" does not exist'
  run 2 pgcopy -c '"a); DROP TABLE victim; --"' victim one.tsv
  assert_eq 0 "$(table_count victim)" "victim still there and empty"
}

# A CSV row may span lines (a newline inside quotes): a bad value there is
# named by the line where its row starts, in one line of message (the
# newline shown as \n), with what committed; the lines after such a row
# count every newline, in every mode that names lines.
test_a_bad_csv_value_holding_a_newline_is_named_by_its_first_line() {
  sql "CREATE TABLE t (id int, name text)"
  printf '1,"a\nb"\n"2\n2",c\n3,d\n' >bad.csv    # the bad row spans lines 3 and 4
  printf '1,"a\nb"\nx,c\n3,d\n' >after.csv       # the bad row is line 3
  printf '1,"a\r\nb"\r\n"2\r\n2",c\r\n3,d\r\n' >crlf.csv
  local mode first
  for mode in "" "--batch-rows 1" "--batch-rows 10" "--jobs 2 --batch-rows 1" "--fast" "--single-transaction --batch-rows 1"; do
    # shellcheck disable=SC2086 # the mode is words
    run 2 pgcopy -F csv $mode t bad.csv
    first=$(head -n 1 err)
    assert_eq 'pgcopy: error: bad.csv:3: invalid input syntax for type integer: "2\n2"' "$first" "the error with $mode"
    assert_not_contains "$err" "$(printf '\n2"')" "the error with $mode"
    assert_contains "$err" "committed" "the error with $mode"
    # shellcheck disable=SC2086
    run 2 pgcopy -F csv $mode t after.csv
    assert_contains "$(head -n 1 err)" 'after.csv:3: invalid input syntax for type integer: "x"' "the error with $mode"
    # shellcheck disable=SC2086
    run 2 pgcopy -F csv $mode t crlf.csv
    assert_contains "$(head -n 1 err)" 'crlf.csv:3: invalid input syntax for type integer: "2\r\n2"' "the error with $mode"
    sql "TRUNCATE t"
  done
  run 2 pgcopy -F csv --batch-rows 10 t bad.csv
  assert_contains "$err" "nothing was committed"
  run 3 pgcopy -F csv --reject-file r t bad.csv
  assert_contains "$(cat r.log)" "bad.csv	3	"
}
