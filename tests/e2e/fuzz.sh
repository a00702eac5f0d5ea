# A short libFuzzer run over the row splitters (text, CSV, binary tuple
# framing); make fuzz runs the same targets for minutes.

test_row_splitters_survive_a_short_fuzz_run() {
  cd "$PGPIPE_ROOT"
  local status=0
  scripts/fuzz.sh 8 || status=$?
  [ "$status" = 77 ] && skip "clang with libFuzzer is not installed"
  assert_eq 0 "$status" "fuzz run"
}
