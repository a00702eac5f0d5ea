# The end line: a producer's "I finished", \. as its last line, written by
# pggen and pgrec with --end-line and insisted on by pgcopy and pgrec with
# --require-end, so that a pipeline whose producer dies commits nothing.

posts_table() {
  sql "CREATE TABLE posts (id serial PRIMARY KEY, title text NOT NULL, body text, created timestamptz DEFAULT now())"
}

# app.py N K HOW: an application writing N posts as JSON lines, dying at
# record K (0: never) by HOW: kill (SIGKILL), raise (an exception), exit (status 3).
write_app() {
  cat >app.py <<'PY'
import json, os, signal, sys
n, k, how = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
for i in range(1, n + 1):
    if i == k:
        sys.stdout.flush()
        if how == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        if how == "raise":
            raise RuntimeError("the application failed at record %d" % i)
        sys.exit(3)
    print(json.dumps({"title": "post %d" % i, "body": "line\tone\nline two \\. %d" % i}))
PY
}

test_pgcopy_require_end_commits_nothing_of_an_input_without_its_end_line() {
  orders
  pggen -q --preset orders -n 20k >rows.tsv
  head -n 12345 rows.tsv >cut.tsv
  run 1 pgcopy --require-end orders cut.tsv
  assert_contains "$err" "cut.tsv: ended without its end line \\. (--require-end)"
  assert_contains "$err" "nothing was committed"
  assert_eq 0 "$(table_count orders)"
  # A producer that fails before its end line, in a pipe.
  run 1 bash -c "set -o pipefail; (head -n 12345 rows.tsv && false && printf '\\\\.\\n') | pgcopy --require-end orders"
  assert_contains "$err" "stdin: ended without its end line"
  assert_eq 0 "$(table_count orders)"
  # Without the option the cut input loads: the gap the option closes.
  run 0 pgcopy orders cut.tsv
  assert_eq 12345 "$(table_count orders)"
  sql "TRUNCATE orders"
  # With its end line, every row.
  run 0 bash -c "(cat rows.tsv && printf '\\\\.\\n') | pgcopy --require-end orders"
  assert_eq 20000 "$(table_count orders)"
  assert_eq "$(sorted_md5 orders)" "$(expected_md5 rows.tsv)"
}

test_require_end_in_batches_keeps_only_whole_batches_before_the_break() {
  orders
  pggen -q --preset orders -n 12345 >cut.tsv
  run 1 pgcopy --require-end --batch-rows 1000 orders cut.tsv
  assert_contains "$err" "ended without its end line"
  local n
  n=$(table_count orders)
  [ "$n" -le 12000 ] && [ $((n % 1000)) -eq 0 ] || fail "$n rows committed: not whole batches before the break"
}

test_pggen_end_line_is_what_require_end_needs_in_every_format() {
  orders
  local f
  for f in text csv binary; do
    run 0 bash -c "pggen -q --preset orders -n 3000 -F $f --end-line | pgcopy -q -F $f --require-end orders"
    assert_eq 3000 "$(table_count orders)" "$f"
    sql "TRUNCATE orders"
  done
  pggen -q --preset orders -n 3000 --end-line --zstd -o rows.zst
  run 0 pgcopy --require-end orders rows.zst
  assert_eq 3000 "$(table_count orders)"
  sql "TRUNCATE orders"
  # A header and nothing else: its producer stopped there.
  sql "CREATE TABLE h (a int)"
  run 1 bash -c "printf 'a' | pgcopy -F csv --header --require-end h"
  assert_contains "$err" "stdin: ended without its end line"
  # Without --end-line, text and csv have no end: refused.
  run 1 bash -c "pggen -q --preset orders -n 3000 | pgcopy --require-end orders"
  assert_eq 0 "$(table_count orders)"
  # The end line then data: refused, naming both lines.
  { pggen -q --preset orders -n 10 --end-line; pggen -q --preset orders -n 1 --start 11; } >after.tsv
  run 1 pgcopy orders after.tsv
  assert_contains "$err" "after.tsv:11: end-of-data marker"
}

# Ten deaths of the application at points from a fixed seed, three ways:
# nothing commits; and the same pipeline that finishes loads every record.
test_an_application_that_dies_commits_nothing_through_pgrec() {
  posts_table
  write_app
  local k how points
  points=$(python3 -c "import random; random.seed(23); print(*sorted(random.sample(range(1, 20001), 10)))")
  set -- kill raise exit kill raise exit kill raise exit kill
  for k in $points; do
    how=$1
    shift
    run 1 bash -c "set -o pipefail; (python3 app.py 20000 $k $how && printf '\\\\.\\n') |
                   pgrec --require-end posts | pgcopy --require-end posts"
    assert_contains "$err" "stdin: ended without its end line"
    assert_eq 0 "$(table_count posts)" "after a death ($how) at record $k"
  done
  run 0 bash -c "set -o pipefail; (python3 app.py 20000 0 none && printf '\\\\.\\n') |
                 pgrec --require-end posts | pgcopy --require-end posts"
  assert_eq 20000 "$(table_count posts)"
  assert_eq 20000 "$(sql "SELECT count(*) FROM posts WHERE body = 'line' || chr(9) || 'one' || chr(10) ||
                                 'line two ' || chr(92) || '. ' || substr(title, 6)")" "bodies with a tab, a newline and \\."
}

test_pgrec_end_line_follows_the_last_block_and_is_checked() {
  posts_table
  printf '{"title":"a"}\n{"title":"b","body":"x"}\n' >two.jsonl
  run 0 pgrec --end-line -o two.copy posts two.jsonl
  assert_eq '\.' "$(tail -n 1 two.copy)"
  run 0 pgcopy --require-end posts two.copy
  assert_eq 2 "$(table_count posts)"
  # Without --end-line no end line: refused by --require-end, nothing committed.
  pgrec -q -o plain.copy posts two.jsonl
  run 1 pgcopy --require-end posts plain.copy
  assert_contains "$err" "plain.copy: ended without its end line"
  assert_eq 2 "$(table_count posts)"
  # A block after a script's end line is refused, naming both lines.
  { cat two.copy; cat plain.copy; } >twice.copy
  run 1 pgcopy posts twice.copy
  assert_contains "$err" "data after the end line \\. at line"
  assert_eq 2 "$(table_count posts)"
  # CSV: the end line after the last row.
  run 0 pgrec -F csv --missing null --end-line -o two.csv posts two.jsonl
  assert_eq '\.' "$(tail -n 1 two.csv)"
  # pgrec's own input: a record after the end line.
  printf '{"title":"a"}\n\\.\n{"title":"b"}\n' >after.jsonl
  run 1 pgrec posts after.jsonl
  assert_contains "$err" "after.jsonl:3: data after the end line \\. at line 2"
  # The end line, then blank lines only: fine.
  printf '{"title":"a"}\n\\.\n\n' >blank.jsonl
  run 0 pgrec --require-end -o blank.copy posts blank.jsonl
}
