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

# The server installation these tests try pgsandbox on: one of the upstream
# layout, whose modules are in lib/postgresql/ and which has no pg_config:
# the version stage's (PGSANDBOX_BINDIR), else the build of 18 make deps fetches.
other_bindir() {
  if [ -d "${PGSANDBOX_BINDIR:-/nonexistent}/../lib/postgresql" ]; then echo "$PGSANDBOX_BINDIR"
  else echo "$PGSANDBOX_BUILDS/18/bin"; fi
}

# statements_in_sandbox DIR: "LIBRARIES|EXTENSION" of the cluster in DIR.
statements_in_sandbox() {
  (eval "$(cat "$1/exports")"
   sql "SELECT current_setting('shared_preload_libraries') || '|' ||
               coalesce((SELECT extname FROM pg_extension WHERE extname = 'pg_stat_statements'), 'none')")
}

test_other_bindir_has_pg_stat_statements() {
  local bindir
  bindir=$(other_bindir)
  [ -x "$bindir/postgres" ] || skip "no server build in $bindir (make deps fetches the upstream builds)"
  PGSANDBOX_BINDIR=$bindir run 0 pgsandbox -q start "$TEST_DIR/other"
  assert_eq "" "$err" "stderr of start"
  echo "$out" >"$TEST_DIR/other/exports"
  assert_eq "pg_stat_statements|pg_stat_statements" "$(statements_in_sandbox "$TEST_DIR/other")"
  pgsandbox -q stop "$TEST_DIR/other"
}

# A bindir whose pg_config names the library directory: pgsandbox looks there
# (its own ../lib holds nothing), and warns when the library is not there.
test_pg_config_names_the_library_dir() {
  local bindir real_lib
  bindir=$(other_bindir)
  [ -x "$bindir/postgres" ] || skip "no server build in $bindir (make deps fetches the upstream builds)"
  real_lib=$(dirname "$(ls "$bindir"/../lib/postgresql/pg_stat_statements.so "$bindir"/../lib/pg_stat_statements.so \
                        2>/dev/null | head -n 1)")
  mkdir -p linked/bin
  chmod 755 "$TEST_DIR" linked linked/bin
  for program in initdb pg_ctl postgres; do ln -s "$bindir/$program" "linked/bin/$program"; done
  printf '#!/bin/sh\necho %s\n' "$real_lib" >linked/bin/pg_config
  chmod 755 linked/bin/pg_config
  run 0 pgsandbox -q start --bindir "$TEST_DIR/linked/bin" "$TEST_DIR/found"
  assert_eq "" "$err" "stderr of start"
  echo "$out" >"$TEST_DIR/found/exports"
  assert_eq "pg_stat_statements|pg_stat_statements" "$(statements_in_sandbox "$TEST_DIR/found")"
  pgsandbox -q stop "$TEST_DIR/found"

  printf '#!/bin/sh\necho /nonexistent/lib\n' >linked/bin/pg_config
  run 0 pgsandbox -q start --bindir "$TEST_DIR/linked/bin" "$TEST_DIR/missing"
  assert_contains "$err" "pgsandbox: warning: no pg_stat_statements.so in /nonexistent/lib:"
  assert_contains "$err" "pgreport will report no statements"
  echo "$out" >"$TEST_DIR/missing/exports"
  assert_eq "|none" "$(statements_in_sandbox "$TEST_DIR/missing")"
  pgsandbox -q stop "$TEST_DIR/missing"
}
