# Passwords given with -d never reach stderr, stdout or a --stats file, in
# any client program, whether libpq refused the string or the connection
# failed; the exit status is the family's (1 bad -d, 2 connection failed).

# Strings libpq refuses to parse: each holds SECRET where a password goes
# (or where part of one ended up, as in "my SECRET" unquoted).
malformed_targets=(
  'postgresql://u:SECRET@[::1/db'
  'postgresql://u:SECRET@[::1]x/db'
  'postgresql://u:SECRET%zz@h/db'
  'postgresql://u:SECRET@h/db?SECRET'
  "password=SECRET host='x"
  'password=SECRET bogus=1'
  'host=h password=my SECRET'
  'password=SECRET host'
)

# Strings libpq parses but cannot connect with: refused port, a password
# with an unencoded "/" that libpq reads as the port, a bad option value.
unreachable_targets=(
  'postgresql://u:SECRET@127.0.0.1:1/db'
  'postgresql://u:SECRET/x@127.0.0.1:1/db'
  'host=127.0.0.1 port=1 password=SECRET sslmode=SECRET'
  'password=SECRET host=127.0.0.1 port=SECRET'
)

# no_secret_in FILE...: fails if SECRET (or a piece of it) is in any FILE.
no_secret_in() {
  local f
  for f in "$@"; do
    [ -e "$f" ] || continue
    if grep -E 'SECRET|CRET|SECR' "$f" >/dev/null; then
      fail "the password is in $f: $(cat "$f")"
    fi
  done
}

# check_program EXPECTED_STATUS WANT TARGET CMD...: runs CMD (which uses
# TARGET with -d), wants EXPECTED_STATUS, WANT in stderr and no secret.
check_program() {
  local expected=$1 want=$2 target=$3
  shift 3
  rm -f stats.json
  run "$expected" "$@"
  no_secret_in out err stats.json
  assert_contains "$err" "$want" "stderr of $1 -d '$target'"
  if [ -e stats.json ]; then
    python3 -c 'import json, sys; json.load(open("stats.json"))' || fail "stats.json is not JSON"
  fi
}

# every_program STATUS WANT TARGET: every client program against TARGET.
every_program() {
  local status=$1 want=$2 d=$3
  check_program "$status" "$want" "$d" pgcopy -w -d "$d" --stats stats.json t rows.tsv
  check_program "$status" "$want" "$d" pgcopy -w -d "$d" --stats stats.json --batch-rows 1 t rows.tsv
  check_program "$status" "$want" "$d" pggen -w -d "$d" --stats stats.json -n 3 t
  check_program "$status" "$want" "$d" pginsert -w -d "$d" --stats stats.json t rows.tsv
  check_program "$status" "$want" "$d" pgrec -w -d "$d" --stats stats.json t rows.jsonl
  check_program "$status" "$want" "$d" pgreport -w -d "$d" snapshot
  check_program "$status" "$want" "$d" pgreport -w -d "$d" diff before.json
  check_program "$status" "$want" "$d" pgreport -w -d "$d" watch --count 1
  check_program "$status" "$want" "$d" pgreport -w -d "$d" -- true
}

setup_inputs() {
  sql "CREATE TABLE t (a int, b text)"
  printf '1\tx\n2\ty\n' >rows.tsv
  printf '{"a": 1, "b": "x"}\n' >rows.jsonl
  pgreport snapshot -o before.json
}

test_malformed_connection_strings_are_not_printed() {
  setup_inputs
  local d
  for d in "${malformed_targets[@]}"; do
    every_program 1 "invalid connection string given with -d" "$d"
  done
}

test_failed_connections_do_not_print_the_password() {
  setup_inputs
  local d
  for d in "${unreachable_targets[@]}"; do
    every_program 2 "error: " "$d"
  done
  # The plain refused port still says what happened, and where.
  run 2 pgcopy -w -d 'postgresql://u:SECRET@127.0.0.1:1/db' t rows.tsv
  assert_contains "$err" 'connection to server at "127.0.0.1", port 1 failed'
  assert_contains "$err" "Connection refused"
  # libpq's own complaint about a value stays readable, without the value.
  run 2 pgcopy -w -d 'password=SECRET host=127.0.0.1 port=SECRET' t rows.tsv
  assert_contains "$err" 'connection option "port"'
}

test_server_refusals_do_not_echo_the_password() {
  setup_inputs
  local d
  # A URI in a conninfo's dbname, and a mistyped URI, reach the server as
  # database names, which its FATAL quotes.
  for d in "dbname=postgresql://u:SECRET@h/db host=$PGHOST port=$PGPORT" 'postgresql:/u:SECRET@h/db'; do
    every_program 2 'database "..." does not exist' "$d"
  done
}

test_libpq_message_is_kept_when_harmless() {
  setup_inputs
  run 1 pgcopy -w -d 'postgresql://u:SECRET@[::1/db' t rows.tsv
  assert_contains "$err" 'matching "]" in IPv6 host address'
  run 1 pgcopy -w -d 'password=SECRET host='"'"'x' t rows.tsv
  assert_contains "$err" "unterminated quoted string"
  # A working -d string with a password still connects.
  run 0 pgcopy -q -d "host=$PGHOST port=$PGPORT dbname=$PGDATABASE password=SECRET" t rows.tsv
  assert_eq 2 "$(table_count t)" "rows loaded"
}
