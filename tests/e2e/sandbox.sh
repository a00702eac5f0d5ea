# pgsandbox: start, reach, stop, and refuse what it must not touch.

test_start_status_stop_in_a_given_directory() {
  run 0 pgsandbox start "$TEST_DIR/sb"
  assert_contains "$out" "export PGHOST='$TEST_DIR/sb'"
  assert_contains "$out" "export PGPORT="
  assert_contains "$err" "started a throwaway cluster"
  (eval "$out"
   assert_eq 1 "$(psql -XAtq -c 'SELECT 1')" "query over the socket"
   assert_eq 1 "$(psql -XAtq -h 127.0.0.1 -c 'SELECT 1')" "query over TCP"
   assert_eq off "$(psql -XAtq -c 'SHOW fsync')" "bulk-load settings"
   run 0 pgsandbox status "$PGHOST"
   assert_eq running "$out"
   run 0 pgsandbox stop "$PGHOST")
  [ ! -e "$TEST_DIR/sb" ] || fail "the directory is still there"
}

test_start_in_a_fresh_temporary_directory() {
  run 0 pgsandbox -q start
  assert_eq "" "$err" "stderr with -q"
  eval "$out"
  assert_contains "$PGHOST" "/pgsandbox."
  pgsandbox stop "$PGHOST"
  [ ! -e "$PGHOST" ] || fail "$PGHOST is still there"
}

test_stop_refuses_a_directory_it_did_not_make() {
  mkdir precious
  touch precious/file
  run 1 pgsandbox stop precious
  assert_contains "$err" "is not a pgsandbox directory"
  [ -e precious/file ] || fail "pgsandbox removed a foreign directory"
}

test_start_refuses_a_non_empty_directory() {
  mkdir full
  touch full/file
  run 1 pgsandbox start full
  assert_contains "$err" "is not empty"
}

test_usage_mistakes() {
  run 1 pgsandbox
  assert_contains "$err" "no command given"
  run 1 pgsandbox launch
  assert_contains "$err" 'unknown command "launch"'
  run 1 pgsandbox stop
  assert_contains "$err" "stop takes exactly one directory"
  run 1 pgsandbox start --bindir /nonexistent
  assert_contains "$err" 'no initdb and pg_ctl in "/nonexistent"'
}

test_durable_keeps_the_stock_durability_settings() {
  run 0 pgsandbox -q start --durable "$TEST_DIR/durable"
  (eval "$out"
   assert_eq "on|on|on|replica" "$(psql -XAtq -c "SELECT current_setting('fsync'), current_setting('synchronous_commit'),
                                      current_setting('full_page_writes'), current_setting('wal_level')")"
   pgsandbox -q stop "$PGHOST")
}

# --pg MAJOR: the upstream build make deps fetched, or a Debian installation.
test_pg_starts_the_major_asked_for() {
  local major
  for major in 14 18 15; do
    if [ "$major" != 15 ] && [ ! -x "$PGSANDBOX_BUILDS/$major/bin/postgres" ]; then
      skip "no build of PostgreSQL $major in $PGSANDBOX_BUILDS (make deps fetches it)"
    fi
    run 0 env -u PGSANDBOX_BINDIR pgsandbox -q start --pg "$major" "$TEST_DIR/pg$major"
    (eval "$out"
     assert_eq "$major" "$(( $(psql -XAtq -c 'SHOW server_version_num') / 10000 ))" "the major of --pg $major"
     pgsandbox -q stop "$PGHOST")
  done
  run 1 pgsandbox start --pg 17 --bindir /usr/lib/postgresql/15/bin
  assert_contains "$err" "--bindir and --pg name the server twice"
  run 1 env PGSANDBOX_BUILDS="$TEST_DIR/none" pgsandbox start --pg 12
  assert_contains "$err" "no PostgreSQL 12 server found"
  assert_contains "$err" "looked in $TEST_DIR/none/12/bin"
  assert_contains "$err" "make deps fetches"
  [ ! -e "$TEST_DIR/pg14" ] || fail "the 14 sandbox is still there"
}
