# pgreport diff refuses snapshots of different databases or servers, naming
# both, and still compares snapshots of one database (older ones included).

# other_db: a second database on the test cluster, named after this test's.
other_db() {
  local name=${PGDATABASE:0:56}_other
  sql "CREATE DATABASE \"$name\"" >/dev/null
  echo "$name"
}

test_snapshots_record_their_server() {
  run 0 pgreport snapshot -o s.json
  python3 - <<'PY'
import json
s = json.load(open("s.json"))["server"]
assert s["system_identifier"].isdigit(), s
assert s["port"] > 0 and s["database_oid"] > 0, s
PY
}

test_two_databases_are_refused() {
  local other
  other=$(other_db)
  run 0 pgreport snapshot -o a.json
  run 0 pgreport -d "$other" snapshot -o b.json
  run 1 pgreport diff a.json b.json
  assert_contains "$err" "cannot compare snapshots of different databases"
  assert_contains "$err" "\"a.json\" is of database \"$PGDATABASE\""
  assert_contains "$err" "\"b.json\" is of database \"$other\""
  assert_eq "" "$out" "stdout"
  # Against now, in another database.
  run 1 pgreport -d "$other" diff a.json
  assert_contains "$err" "\"now\" is of database \"$other\""
}

test_two_servers_are_refused() {
  run 0 pgreport -d postgres snapshot -o here.json
  local sysid
  sysid=$(python3 -c 'import json; print(json.load(open("here.json"))["server"]["system_identifier"])')
  (
    eval "$(pgsandbox -q start "$TEST_DIR/own")"
    trap 'pgsandbox -q stop "$PGHOST" >/dev/null' EXIT
    pgreport -d postgres snapshot -o there.json
  )
  run 1 pgreport diff here.json there.json
  assert_contains "$err" "cannot compare snapshots of different servers"
  assert_contains "$err" "\"here.json\" is of database \"postgres\" on the server with system identifier $sysid"
  assert_contains "$err" "\"there.json\" is of database \"postgres\" on the server with system identifier"
}

test_a_database_created_again_is_refused() {
  sql "CREATE DATABASE again"
  run 0 pgreport -d again snapshot -o a.json
  sql "DROP DATABASE again"
  sql "CREATE DATABASE again"
  run 0 pgreport -d again snapshot -o b.json
  sql "DROP DATABASE again"
  run 1 pgreport diff a.json b.json
  assert_contains "$err" "dropped and created again"
}

test_same_database_still_works() {
  sql "CREATE TABLE t (a int)"
  run 0 pgreport snapshot -o a.json
  sql "INSERT INTO t SELECT generate_series(1, 100)"
  wait_for "SELECT n_tup_ins = 100 FROM pg_stat_user_tables WHERE relid = 't'::regclass" "the inserts in the statistics"
  run 0 pgreport snapshot -o b.json
  run 0 pgreport diff --format tsv a.json b.json
  assert_contains "$out" "$(printf 'table\tpublic.t\tinserted\t100')"
  run 0 pgreport diff a.json
  assert_contains "$out" "public.t"
}

test_older_snapshots_compare_names_only() {
  local other
  other=$(other_db)
  run 0 pgreport snapshot -o a.json
  run 0 pgreport -d "$other" snapshot -o b.json
  # Snapshots of an older pgreport have no "server" member.
  for f in a b; do
    python3 - "$f.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
del s["server"]
json.dump(s, open("old-" + sys.argv[1], "w"))
PY
  done
  run 0 pgreport diff old-a.json a.json
  run 0 pgreport diff old-a.json
  run 1 pgreport diff old-a.json old-b.json
  assert_contains "$err" "(the snapshot does not record its server)"
}
