#!/usr/bin/env bash
# make check: runs the Catch2 unit tests and every end-to-end test against a
# throwaway cluster (each test in its own database and scratch directory),
# then the version stage: the tests listed in tests/versions.list against a
# throwaway cluster of each major in PG_VERSIONS. Every cluster is stopped,
# whatever happens. Ends with the line
#   tests: N passed, N failed[, N skipped]
# Usage: tests/run.sh [PATTERN]   (PATTERN selects e2e tests by name)
# PG (a major, e.g. 17) runs the full suites on that major instead of the
# newest Debian installation; PG_VERSIONS ("14 16 17 18" under make check)
# are the majors of the version stage. The upstream builds of those majors
# are in PG_BUILDS (build/postgres), fetched by make deps. TEST_LIST (a file
# like tests/versions.list) limits the first stage to the tests it names.
# TEST_TIMEOUT (seconds, 900) ends an e2e test that hangs.
set -u
cd "$(dirname "$0")/.."
root=$PWD
BUILD=${BUILD:-build}
pattern=${1:-}
export PATH="$root/$BUILD/bin:$PATH"
export PGPIPE_ROOT=$root PGPIPE_BUILD=$root/$BUILD
export PGSANDBOX_BUILDS=${PG_BUILDS:-$root/build/postgres}
# Tests must not inherit a user's connection settings, nor a server choice.
unset PGHOST PGPORT PGUSER PGDATABASE PGSERVICE PGPASSWORD PGOPTIONS PGSANDBOX_BINDIR

passed=0 failed=0 skipped=0
failures=()
finish() {
  local extra=""
  [ "$skipped" -gt 0 ] && extra=", $skipped skipped"
  if [ ${#failures[@]} -gt 0 ]; then
    echo "failed: ${failures[*]}"
  fi
  echo "tests: $passed passed, $failed failed$extra"
}

scratch=$(mktemp -d /tmp/pgpipe-tests.XXXXXX)
chmod 755 "$scratch" # the server (user postgres) reads some test files
sandbox_dir=""
cleanup() {
  [ -n "$sandbox_dir" ] && pgsandbox -q stop "$sandbox_dir" >/dev/null 2>&1
  # A test that started its own cluster and died leaves it behind: stop it too.
  for marker in "$scratch"/*/*/*/.pgsandbox "$scratch"/*/*/*/*/.pgsandbox "$scratch"/*/*/*/*/*/.pgsandbox; do
    [ -e "$marker" ] && pgsandbox -q stop "$(dirname "$marker")" >/dev/null 2>&1
  done
  rm -rf "$scratch"
}
trap cleanup EXIT
trap 'echo "interrupted"; exit 130' INT TERM

# Root runs the servers as postgres, which cannot reach a build under a
# private directory (a clone in /root): such builds run from a copy in scratch.
if [ "$(id -u)" -eq 0 ] && [ -d "$PGSANDBOX_BUILDS" ] &&
   ! runuser -u postgres -- test -r "$PGSANDBOX_BUILDS" 2>/dev/null; then
  cp -a "$PGSANDBOX_BUILDS" "$scratch/postgres"
  export PGSANDBOX_BUILDS=$scratch/postgres
fi

# stage_dir LABEL: where a stage's cluster and test directories are. Short:
# a test's directory must leave room for a cluster's socket path (107 bytes).
stage_dir() {
  if [ "$1" == main ]; then echo "$scratch"; else echo "$scratch/${1#pg}"; fi
}

# start_cluster LABEL [MAJOR]: a throwaway cluster for a stage; every
# pgsandbox the tests start runs the same server programs.
start_cluster() {
  local label=$1 major=${2:-} choice=()
  [ -n "$major" ] && choice=(--pg "$major")
  mkdir -p "$(stage_dir "$label")"
  if ! sandbox_env=$(pgsandbox -q start "${choice[@]}" "$(stage_dir "$label")/cluster" 2>"$scratch/sandbox.err"); then
    cat "$scratch/sandbox.err"
    echo "could not start the test cluster${major:+ of PostgreSQL $major}"
    failed=$((failed + 1))
    failures+=("$label:harness")
    return 1
  fi
  eval "$sandbox_env"
  sandbox_dir=$PGHOST
  PGSANDBOX_BINDIR=$(sed -n 's/^bindir=//p' "$PGHOST/.pgsandbox")
  export PGSANDBOX_BINDIR
  echo "test cluster: PostgreSQL $(psql -XAtq -c 'SHOW server_version') in $PGHOST (port $PGPORT)"
}

stop_cluster() {
  pgsandbox -q stop "$sandbox_dir" >/dev/null 2>&1
  sandbox_dir=""
  unset PGHOST PGPORT PGUSER PGDATABASE PGSANDBOX_BINDIR
}

# --- unit tests (Catch2): each test case counts as one test.
# run_unit_tests TIER FILTER: the cases FILTER selects ("~[server]": those
# that need no server, run before any cluster starts; "[server]": those
# that talk to the stage's cluster).
run_unit_tests() {
  local tier=$1 filter=$2 unit_log=$scratch/unit-$1.log unit_rc line n p f
  "$BUILD/tests/unit_tests" "$filter" >"$unit_log" 2>&1
  unit_rc=$?
  if line=$(grep -E '^All tests passed' "$unit_log"); then
    n=$(sed -E 's/.* in ([0-9]+) test case.*/\1/' <<<"$line")
    passed=$((passed + n))
    echo "ok    unit ($tier): $n test cases"
  elif line=$(grep -E '^test cases:' "$unit_log"); then
    p=$(sed -E 's/.*\| *([0-9]+) passed.*/\1/' <<<"$line")
    f=$(sed -E 's/.*\| *([0-9]+) failed.*/\1/' <<<"$line")
    [[ $p =~ ^[0-9]+$ ]] || p=0
    passed=$((passed + p)); failed=$((failed + f))
    failures+=("unit-$tier")
    cat "$unit_log"
    echo "FAIL  unit ($tier): $f of $((p + f)) test cases"
  else
    cat "$unit_log"
    echo "FAIL  unit ($tier): the test binary ended with status $unit_rc without a summary"
    failed=$((failed + 1)); failures+=("unit-$tier")
  fi
}

# run_e2e_test LABEL FILE NAME: one test function in its own database and
# directory; LABEL prefixes the test's id in the version stage.
run_e2e_test() {
  local label=$1 file=$2 name=$3 suite id dir db start rc secs
  suite=$(basename "$file" .sh)
  id="$suite/$name"
  [ "$label" != main ] && id="$label:$id"
  dir=$(stage_dir "$label")/$suite/$name
  mkdir -p "$dir"
  chmod 755 "$(stage_dir "$label")" "$(dirname "$dir")" "$dir"
  db="t_${suite}_${name#test_}"
  db=${db:0:63}
  psql -XAtq -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$db\"" >/dev/null 2>&1
  start=$EPOCHREALTIME
  # A guard against a hang, not a measure: a machine busy with other work
  # runs the longest tests several times slower.
  (cd "$dir" && PGDATABASE=$db TEST_DIR=$dir timeout "${TEST_TIMEOUT:-900}" \
    bash -eu -o pipefail -c "source '$root/tests/lib.sh'; source '$root/$file'; $name") \
    >"$dir/log" 2>&1
  rc=$?
  secs=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
  if [ $rc -eq 0 ]; then
    passed=$((passed + 1)); echo "ok    $id (${secs}s)"
  elif [ $rc -eq 77 ]; then
    skipped=$((skipped + 1)); echo "skip  $id: $(tail -n 1 "$dir/log")"
  else
    failed=$((failed + 1)); failures+=("$id")
    echo "FAIL  $id (exit $rc, ${secs}s)"
    [ $rc -eq 124 ] && echo "      | timed out after ${TEST_TIMEOUT:-900}s"
    tail -n 40 "$dir/log" | sed 's/^/      | /'
  fi
}

# run_e2e_tests LABEL [LIST]: every function test_* in tests/e2e/*.sh that
# PATTERN selects, or only those LIST names (lines "suite/test_name").
run_e2e_tests() {
  local label=$1 list=${2:-} file suite names name
  for file in tests/e2e/*.sh; do
    suite=$(basename "$file" .sh)
    names=$(bash -c "source tests/lib.sh; source '$file'; declare -F" | awk '$3 ~ /^test_/ {print $3}')
    for name in $names; do
      [ -n "$pattern" ] && [[ $suite/$name != *"$pattern"* ]] && continue
      [ -n "$list" ] && ! grep -qx "$suite/$name" "$list" && continue
      run_e2e_test "$label" "$file" "$name"
    done
  done
}

# run_stage LABEL MAJOR [LIST]: a cluster, the tests, the cluster stopped.
run_stage() {
  local label=$1 major=$2 list=${3:-} begin=$SECONDS
  local units=false
  [ "$label" == main ] && { [ -z "$pattern" ] || [[ unit == *"$pattern"* ]]; } && units=true
  # Most unit tests need no server: they run first, so that a broken stage
  # or planner fails in seconds, before any cluster starts.
  $units && run_unit_tests no-server '~[server]'
  start_cluster "$label" "$major" || return 0
  $units && run_unit_tests server '[server]'
  run_e2e_tests "$label" "$list"
  stop_cluster
  echo "stage ${label}: $((SECONDS - begin)) s"
}

run_stage main "${PG:-}" "${TEST_LIST:-}"
for major in ${PG_VERSIONS:-}; do
  run_stage "pg$major" "$major" tests/versions.list
done

finish
[ "$failed" -eq 0 ]
