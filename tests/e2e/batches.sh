# pgcopy for cron: batches, rejects, resume after kill -9, retries after a
# lost connection, upserts, and the limits on rejects.

test_one_percent_corrupt_rows_are_rejected_with_their_lines() {
  orders
  pggen -q --preset orders -n 1M >good.tsv
  # Corrupt 1% of the lines at random places, in ways the server refuses.
  python3 - <<'PY'
import random
random.seed(11)
lines = open("good.tsv").read().split("\n")[:-1]
bad = sorted(random.sample(range(len(lines)), len(lines) // 100))
def overflow(l):
    f = l.split("\t")
    f[2] = "123456789.5"  # numeric(12,4) holds 8 integer digits
    return "\t".join(f)
kinds = [lambda l: "x" + l, lambda l: l + "\textra", lambda l: l.split("\t")[0], overflow]
with open("expected_lines", "w") as out:
    for i in bad:
        lines[i] = kinds[i % 4](lines[i])
        out.write(f"{i + 1}\n")
open("input.tsv", "w").write("\n".join(lines) + "\n")
PY
  run 3 pgcopy --batch-rows 100k --reject-file rejects.tsv orders input.tsv
  assert_contains "$err" "990,000 rows"
  assert_contains "$err" "10,000 rows rejected"
  assert_eq 990000 "$(table_count orders)"
  assert_eq 10000 "$(wc -l <rejects.tsv)" "rows in the reject file"
  tail -n +2 rejects.tsv.log | cut -f2 >logged_lines
  cmp -s expected_lines logged_lines || fail "the log's line numbers differ from the corrupted lines"
  # Every bad row is there, byte for byte, and loads once fixed.
  python3 - <<'PY'
lines = open("input.tsv").read().split("\n")
expected = [lines[int(n) - 1] + "\n" for n in open("expected_lines")]
assert open("rejects.tsv").read() == "".join(expected), "reject file differs from the bad rows"
good = open("good.tsv").read().split("\n")
open("fixed.tsv", "w").write("".join(good[int(n) - 1] + "\n" for n in open("expected_lines")))
PY
  pgcopy -q orders fixed.tsv
  assert_eq "$(expected_md5 good.tsv)" "$(sorted_md5 orders)" "table after loading the fixed rows"
}

test_kill_9_at_random_moments_then_resume_gives_exactly_the_input() {
  orders
  pggen -q --preset orders -n 2M >input.tsv
  local expected
  expected=$(expected_md5 input.tsv)
  # Five runs, each killed somewhere in the batch after one it committed.
  local loaded=0 round
  for round in 1 2 3 4 5; do
    pgcopy -q --batch-rows 50k --resume-key nightly orders input.tsv 2>/dev/null &
    local loader=$!
    wait_for "SELECT rows_loaded > $loaded FROM pgpipe.load_progress WHERE key = 'nightly'" \
      "a batch committed by run $round"
    kill -9 "$loader" 2>/dev/null || true
    wait "$loader" 2>/dev/null || true
    loaded=$(sql "SELECT rows_loaded FROM pgpipe.load_progress WHERE key = 'nightly'")
  done
  [ "$loaded" -lt 2000000 ] || fail "the fifth run finished before its kill"
  run 0 pgcopy --batch-rows 50k --resume-key nightly orders input.tsv
  assert_eq "$expected" "$(sorted_md5 orders)" "table after five kills and a resume"
  assert_eq 2000000 "$(sql 'SELECT count(DISTINCT id) FROM orders')" "no duplicates"
  assert_eq "t|2000000" "$(sql "SELECT finished, rows_loaded FROM pgpipe.load_progress WHERE key = 'nightly'")"
  run 0 pgcopy --batch-rows 50k --resume-key nightly orders input.tsv
  assert_contains "$err" "this load finished already"
  cp input.tsv other.tsv
  run 1 pgcopy --resume-key nightly orders other.tsv
  assert_contains "$err" 'resume key "nightly" belongs to another load'
}

test_terminated_backend_is_retried_without_gap_or_duplicate() {
  orders
  pggen -q --preset orders -n 1M >input.tsv
  load_through_terminations 3 orders pgcopy --batch-rows 20k --retries 5 orders <input.tsv
  assert_eq "$(expected_md5 input.tsv)" "$(sorted_md5 orders)" "table after the retries"
  assert_eq 0 "$(sql "SELECT count(*) FROM pgpipe.load_progress")" "the run's own progress row is gone"
}

test_upsert_of_100k_rows_half_conflicting() {
  orders
  pggen -q --preset orders -n 50k | pgcopy -q orders
  # Rows 25,001..125,000: the first half exists, with other amounts and statuses.
  pggen -q --preset orders -n 100k --start 25001 'amount=numeric(1000,2000,2)' 'status=cycle(new)' >upsert.tsv
  run 0 pgcopy --on-conflict update --batch-rows 30k orders upsert.tsv
  assert_eq "125000|100000" "$(sql "SELECT count(*), count(*) FILTER (WHERE status = 'new') FROM orders")"
  assert_eq 0 "$(sql "SELECT count(*) FROM orders WHERE id <= 25000 AND (status = 'new' OR amount >= 1000)")" \
    "untouched rows"
  sql "TRUNCATE orders"
  pggen -q --preset orders -n 50k | pgcopy -q orders
  run 0 pgcopy --on-conflict ignore --conflict-columns id orders upsert.tsv
  assert_contains "$err" "25,000 conflicting rows skipped"
  assert_eq "125000|75000" "$(sql "SELECT count(*), count(*) FILTER (WHERE status = 'new') FROM orders")"
}

test_max_rejects_stops_and_says_what_committed() {
  orders
  pggen -q --preset orders -n 10000 | awk 'NR > 5000 && NR % 10 == 0 { print "bad"; next } { print }' >input.tsv
  run 3 pgcopy --batch-rows 1000 --reject-file r.tsv --max-rejects 20 orders input.tsv
  assert_contains "$err" "stopped: 21 rows rejected, more than --max-rejects 20"
  assert_contains "$err" "5,000 rows were committed in 5 batches, up to input.tsv:5000"
  assert_eq 5000 "$(table_count orders)"
  assert_eq 0 "$(wc -l <r.tsv)" "rejects of the rolled-back batch are taken back"
  sql "TRUNCATE orders"
  run 3 pgcopy --batch-rows 1000 --reject-file r.tsv --max-rejects 5% orders input.tsv
  assert_eq 9500 "$(table_count orders)" "10% of the second half, 5% overall: within the limit"
  run 3 pgcopy --batch-rows 1000 --reject-file r2.tsv --max-rejects 4% orders input.tsv
  assert_contains "$err" "more than --max-rejects 4%"
}

test_rows_without_a_line_are_found_by_bisection() {
  sql "CREATE TABLE parent (id int PRIMARY KEY)"
  sql "INSERT INTO parent SELECT generate_series(1, 100)"
  sql "CREATE TABLE child (id int, parent_id int REFERENCES parent DEFERRABLE INITIALLY DEFERRED)"
  seq 1 5000 | awk '{ print $1 "\t" (($1 % 1000 == 0) ? 999 : ($1 % 100) + 1) }' >rows.tsv
  run 3 pgcopy --batch-rows 2000 --reject-file r.tsv child rows.tsv
  assert_eq 4995 "$(table_count child)"
  assert_eq "1000 2000 3000 4000 5000" "$(cut -f1 r.tsv | xargs)"
  assert_contains "$(cat r.tsv.log)" "violates foreign key constraint"
}

test_csv_binary_and_zstd_batches_keep_lines_and_framing() {
  sql "CREATE TABLE t (id int, note text)"
  printf 'id,note\n1,"two\nlines"\n2,plain\nx,bad\n3,"a,b"\n' >in.csv
  run 3 pgcopy -F csv --header --batch-rows 1 --reject-file r.csv t in.csv
  assert_eq 3 "$(table_count t)"
  assert_eq "$(printf 'id,note\nx,bad')" "$(cat r.csv)" "CSV reject file keeps the header"
  assert_eq 5 "$(tail -n 1 r.csv.log | cut -f2)" "line of the bad row, header and quoted newline counted"
  sql "TRUNCATE t"
  pggen -q -n 3000 'id:int4=seq' 'note=words' -F binary | zstd -q >in.bin.zst
  run 0 pgcopy -F binary --batch-rows 700 t in.bin.zst
  assert_contains "$err" "in 5 batches"
  assert_eq "3000|3000" "$(sql 'SELECT count(*), count(DISTINCT id) FROM t')"
  head -c 20000 <(zstd -dc in.bin.zst) >cut.bin
  run 1 pgcopy -F binary --batch-rows 700 t cut.bin
  assert_contains "$err" "binary COPY data ends at byte offset 20000 inside field 2 of 2 of the row that starts at byte offset 19963"
}

test_truncate_in_batches_keeps_old_rows_when_the_load_fails() {
  orders
  pggen -q --preset orders -n 100 | pgcopy -q orders
  printf 'x\n' >bad.tsv
  run 2 pgcopy --truncate --batch-rows 10 orders bad.tsv
  assert_eq 100 "$(table_count orders)" "rows kept"
  pggen -q --preset orders -n 20 >twenty.tsv
  run 0 pgcopy --truncate --batch-rows 10 orders twenty.tsv
  assert_eq 20 "$(table_count orders)"
}

test_single_transaction_with_rejects() {
  orders
  pggen -q --preset orders -n 1000 | awk 'NR % 100 == 0 { print "bad"; next } { print }' >input.tsv
  run 3 pgcopy --single-transaction --batch-rows 300 --reject-file r.tsv orders input.tsv
  assert_eq 990 "$(table_count orders)"
  run 1 pgcopy --single-transaction --resume-key k orders input.tsv
  assert_contains "$err" "--single-transaction cannot be used with --resume-key"
}

test_hostile_rows_are_rejected_by_line() {
  sql "CREATE TABLE h (id int, s text)"
  python3 - <<'PY'
rows = [b"1\tok\n", b"2\tnul\x00byte\n", b"3\tbad \xff\xfe utf8\n", b"4\t" + b"y" * (100 << 20) + b"\n",
        b"\x89PNG\r\n\x1a\n", b"5\tlast\n"]
open("hostile.tsv", "wb").write(b"".join(rows))
PY
  run 3 pgcopy --batch-bytes 1M --reject-file r.tsv h hostile.tsv
  assert_eq "1 4 5" "$(sql 'SELECT string_agg(id::text, $$ $$ ORDER BY id) FROM h')" "loaded rows (the 100 MB row too)"
  assert_eq "2 3 5 6" "$(tail -n +2 r.tsv.log | cut -f2 | xargs)" "rejected lines"
  assert_contains "$(cat r.tsv.log)" 'invalid byte sequence for encoding "UTF8"'
}

test_errors_of_the_load_itself_are_not_rejected_rows() {
  printf '1\n2\n' >rows.tsv
  run 2 pgcopy --batch-rows 1 --reject-file r.tsv no_such_table rows.tsv
  assert_contains "$err" 'relation "no_such_table" does not exist'
  assert_eq 0 "$(wc -l <r.tsv)" "nothing rejected"
}

test_single_transaction_failure_commits_nothing_and_says_so() {
  orders
  pggen -q --preset orders -n 1000 | awk 'NR > 500 { print "bad"; next } { print }' >input.tsv
  run 3 pgcopy --single-transaction --batch-rows 100 --reject-file r.tsv --max-rejects 10 orders input.tsv
  assert_contains "$err" "nothing was committed: --single-transaction rolled the whole load back"
  assert_not_contains "$err" "rows were committed in"
  assert_eq 0 "$(table_count orders)"
  assert_eq 0 "$(wc -c <r.tsv)" "reject file of a rolled-back load"
}

test_binary_rejects_count_rows_and_name_the_file() {
  sql "CREATE TABLE b (id int, v int CHECK (v < 30))"
  pggen -q -n 40 'id:int4=seq' 'v:int4=seq' -F binary >in.bin
  run 3 pgcopy -F binary --batch-rows 7 --reject-file r.bin b in.bin
  assert_eq "30 31 32 33 34 35 36 37 38 39 40" "$(tail -n +2 r.bin.log | cut -f2 | xargs)" "rows, not newlines"
  assert_eq 29 "$(table_count b)"
  sql "TRUNCATE b"
  pgcopy -q -F binary b r.bin 2>/dev/null && fail "rejected rows loaded despite the CHECK"
  head -c 100 in.bin >cut.bin
  run 1 pgcopy -F binary --batch-rows 7 b cut.bin
  assert_contains "$err" '"cut.bin": binary COPY data ends at byte offset 100'
}

test_qualifying_options_turn_batches_on_and_upserts_respect_generated_columns() {
  sql "CREATE TABLE g (id serial PRIMARY KEY, v int, twice int GENERATED ALWAYS AS (v * 2) STORED)"
  printf '1\t10\n2\t20\n' | pgcopy -q -c id,v g
  printf '2\t21\n3\t30\n' >up.tsv
  run 0 pgcopy --on-conflict update -c id,v g up.tsv
  assert_eq "1:10:20 2:21:42 3:30:60" "$(sql "SELECT string_agg(id || ':' || v || ':' || twice, ' ' ORDER BY id) FROM g")"
  sql "SELECT setval('g_id_seq', 3)" >/dev/null
  printf '40\n' >v.tsv
  run 0 pgcopy --on-conflict ignore -c v g v.tsv
  assert_eq 1 "$(sql 'SELECT count(*) FROM g WHERE v = 40 AND id = 4')" "one sequence value per row"
  printf 'bad\n' >bad.tsv
  run 1 pgcopy --max-rejects 5 g bad.tsv
  assert_contains "$err" "--max-rejects needs --reject-file"
  run 1 pgcopy --max-rejects nan --reject-file r g bad.tsv
  assert_contains "$err" "invalid --max-rejects"
}

# A rejected row without its line end (an input's last line, the data before
# a \.) gets one in the reject file: the next reject starts a line of its
# own, and the fixed file loads row for row.
test_a_rejected_last_line_without_a_newline_keeps_the_next_reject_apart() {
  sql "CREATE TABLE t (id int, name text)"
  printf '1\tone\nx\tlast' >a.tsv
  printf 'y\tdata\\.\n' >b.tsv
  printf 'z\tw\n2\ttwo\n' >c.tsv
  run 3 pgcopy --reject-file rej.tsv t a.tsv b.tsv c.tsv
  assert_eq 2 "$(table_count t)"
  assert_eq "$(printf 'x\tlast\ny\tdata\nz\tw')" "$(cat rej.tsv)" "the reject file"
  assert_eq 4 "$(wc -l <rej.tsv.log)" "the log's header and its three lines"
  sed 's/^[xyz]/9/' rej.tsv >fixed.tsv
  run 0 pgcopy t fixed.tsv
  assert_eq "3|1|1|1" "$(sql "SELECT count(*), count(*) FILTER (WHERE name = 'last'),
    count(*) FILTER (WHERE name = 'data'), count(*) FILTER (WHERE name = 'w') FROM t WHERE id = 9")"
}
