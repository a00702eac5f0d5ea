#!/usr/bin/env bash
# make check: starts one throwaway cluster, runs the Catch2 unit tests and
# every end-to-end test against it (each in its own database and scratch
# directory), always stops the cluster, and ends with the line
#   tests: N passed, N failed[, N skipped]
# Usage: tests/run.sh [PATTERN]   (PATTERN selects e2e tests by name)
# TEST_TIMEOUT (seconds, 900) ends an e2e test that hangs.
set -u
cd "$(dirname "$0")/.."
root=$PWD
BUILD=${BUILD:-build}
pattern=${1:-}
export PATH="$root/$BUILD/bin:$PATH"
export PGPIPE_ROOT=$root PGPIPE_BUILD=$root/$BUILD
# Tests must not inherit a user's connection settings.
unset PGHOST PGPORT PGUSER PGDATABASE PGSERVICE PGPASSWORD PGOPTIONS

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
  for marker in "$scratch"/*/*/.pgsandbox "$scratch"/*/*/*/.pgsandbox; do
    [ -e "$marker" ] && pgsandbox -q stop "$(dirname "$marker")" >/dev/null 2>&1
  done
  rm -rf "$scratch"
}
trap cleanup EXIT
trap 'echo "interrupted"; exit 130' INT TERM

if ! sandbox_env=$(pgsandbox -q start "$scratch/cluster" 2>"$scratch/sandbox.err"); then
  cat "$scratch/sandbox.err"
  echo "could not start the test cluster"
  failed=1
  failures+=(harness)
  finish
  exit 1
fi
eval "$sandbox_env"
sandbox_dir=$PGHOST
echo "test cluster: $PGHOST (port $PGPORT)"

# --- unit tests (Catch2): each test case counts as one test.
if [ -z "$pattern" ] || [[ unit == *"$pattern"* ]]; then
  unit_log=$scratch/unit.log
  "$BUILD/tests/unit_tests" >"$unit_log" 2>&1
  unit_rc=$?
  if line=$(grep -E '^All tests passed' "$unit_log"); then
    n=$(sed -E 's/.* in ([0-9]+) test case.*/\1/' <<<"$line")
    passed=$((passed + n))
    echo "ok    unit: $n test cases"
  elif line=$(grep -E '^test cases:' "$unit_log"); then
    p=$(sed -E 's/.*\| *([0-9]+) passed.*/\1/' <<<"$line")
    f=$(sed -E 's/.*\| *([0-9]+) failed.*/\1/' <<<"$line")
    [[ $p =~ ^[0-9]+$ ]] || p=0
    passed=$((passed + p)); failed=$((failed + f))
    failures+=(unit)
    cat "$unit_log"
    echo "FAIL  unit: $f of $((p + f)) test cases"
  else
    cat "$unit_log"
    echo "FAIL  unit: the test binary ended with status $unit_rc without a summary"
    failed=$((failed + 1)); failures+=(unit)
  fi
fi

# --- end-to-end tests: every function test_* in tests/e2e/*.sh.
for file in tests/e2e/*.sh; do
  suite=$(basename "$file" .sh)
  names=$(bash -c "source tests/lib.sh; source '$file'; declare -F" | awk '$3 ~ /^test_/ {print $3}')
  for name in $names; do
    id="$suite/$name"
    [ -n "$pattern" ] && [[ $id != *"$pattern"* ]] && continue
    dir=$scratch/$suite/$name
    mkdir -p "$dir"
    chmod 755 "$scratch/$suite" "$dir"
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
  done
done

finish
[ "$failed" -eq 0 ]
