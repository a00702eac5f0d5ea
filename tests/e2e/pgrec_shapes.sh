# pgrec's text output is a script stream: a COPY block per shape of record
# (which keys with a DEFAULT it carries), so that `pgrec T | pgcopy T` needs
# no column list, a missing key gets its column's DEFAULT, and a pgrec that
# dies leaves a block without its end, which pgcopy refuses.

export PGTZ=UTC

posts_table() {
  sql "CREATE TABLE posts (id bigserial PRIMARY KEY, title text NOT NULL, body text)"
  printf '%s\n' '{"title": "first", "body": "a\tb"}' '{"title": "second", "body": null}' \
    '{"body": "third", "title": "Third"}' >posts.jsonl
}

expected_posts='1|first|a	b
2|second|
3|Third|third'

test_a_serial_table_loads_through_pgcopy_script() {
  posts_table
  run 0 bash -o pipefail -c 'pgrec posts <posts.jsonl | pgcopy --script'
  assert_eq "$expected_posts" "$(sql 'SELECT id, title, body FROM posts ORDER BY id')"
  assert_contains "$err" "leaving id to the server"
  assert_not_contains "$err" "pgcopy -c" "the note of a script stream"
}

test_pgrec_table_pipes_into_pgcopy_table() {
  posts_table
  run 0 bash -o pipefail -c 'pgrec posts <posts.jsonl | pgcopy posts'
  assert_eq "$expected_posts" "$(sql 'SELECT id, title, body FROM posts ORDER BY id')"
}

test_pgrec_table_pipes_into_pgcopy_without_table() {
  posts_table
  run 0 bash -o pipefail -c 'pgrec posts <posts.jsonl | pgcopy'
  assert_eq "$expected_posts" "$(sql 'SELECT id, title, body FROM posts ORDER BY id')"
}

test_a_missing_created_at_gets_now_and_a_given_one_is_kept() {
  sql "CREATE TABLE events (id serial PRIMARY KEY, seq int NOT NULL, name text,
                            created_at timestamptz NOT NULL DEFAULT now())"
  python3 - <<'PY'
import json
with open("events.jsonl", "w") as out:
    for i in range(1, 301):
        rec = {"seq": i, "name": f"e{i}"}
        if i % 3 == 0:
            rec["created_at"] = f"2020-01-01T00:{i % 60:02d}:00Z"
        out.write(json.dumps(rec) + "\n")
PY
  local before
  before=$(sql "SELECT clock_timestamp()")
  run 0 bash -o pipefail -c 'pgrec events events.jsonl | pgcopy events'
  # Records without created_at: the load's now(), one value for all.
  assert_eq "200|1|0" "$(sql "SELECT count(*), count(DISTINCT created_at), count(*) FILTER (WHERE created_at < '$before')
                              FROM events WHERE seq % 3 <> 0")" "defaulted rows"
  python3 - >expected <<'PY'
for i in range(3, 301, 3):
    print(f"{i}\te{i}\t2020-01-01 00:{i % 60:02d}:00+00")
PY
  psql -XAtq -c "COPY (SELECT seq, name, created_at FROM events WHERE seq % 3 = 0 ORDER BY id) TO STDOUT" >actual
  assert_same_file expected actual
}

test_a_nullable_default_is_taken_and_an_explicit_null_stays_null() {
  sql "CREATE TABLE t (id serial PRIMARY KEY, seq int, note text DEFAULT 'none', score int DEFAULT 7, plain text)"
  printf '%s\n' '{"seq": 1}' '{"seq": 2, "note": null}' '{"seq": 3, "note": "x", "score": null}' \
    '{"seq": 4, "score": 1, "plain": "p"}' '{"seq": 5, "plain": null}' >in.jsonl
  run 0 bash -o pipefail -c 'pgrec t in.jsonl | pgcopy t'
  assert_eq "1|none|7|
2||7|
3|x||
4|none|1|p
5|none|7|" "$(sql 'SELECT seq, note, score, plain FROM t ORDER BY seq')"
  # The two other answers to a missing key still hold.
  sql "TRUNCATE t"
  run 0 bash -o pipefail -c 'pgrec --missing null t in.jsonl | pgcopy t'
  assert_eq "1|||" "$(sql 'SELECT seq, note, score, plain FROM t WHERE seq = 1')" "--missing null"
  run 1 pgrec --missing error t in.jsonl
  assert_contains "$err" 'in.jsonl:1: key "note" is missing (--missing error)'
}

test_rows_keep_their_order_within_a_shape() {
  sql "CREATE TABLE t (id serial PRIMARY KEY, seq int NOT NULL, a text DEFAULT 'A', b text DEFAULT 'B')"
  # Three shapes, interleaved; each row's a and b tell its shape.
  python3 - <<'PY'
import json
with open("in.jsonl", "w") as out, open("expected", "w") as exp:
    rows = []
    for i in range(1, 3001):
        rec = {"seq": i}
        if i % 3 == 1: rec["a"] = f"a{i}"
        if i % 3 == 2: rec["b"] = f"b{i}"
        out.write(json.dumps(rec) + "\n")
        rows.append((i % 3, i, rec.get("a", "A"), rec.get("b", "B")))
    for shape, i, a, b in sorted(rows):
        exp.write(f"{i}\t{a}\t{b}\n")
PY
  run 0 bash -o pipefail -c 'pgrec t in.jsonl | pgcopy t'
  # By shape, then by id: within a shape the ids follow the input.
  psql -XAtq -c "COPY (SELECT seq, a, b FROM t ORDER BY seq % 3, id) TO STDOUT" >actual
  assert_same_file expected actual
}

test_many_interleaved_shapes_load_every_record_once() {
  sql "CREATE TABLE t (id serial PRIMARY KEY, seq int NOT NULL, pad text,
                       c0 int DEFAULT -10, c1 int DEFAULT -11, c2 int DEFAULT -12,
                       c3 int DEFAULT -13, c4 int DEFAULT -14, c5 int DEFAULT -15)"
  # 64 shapes, each key present by a bit of seq * 7 % 64: 45 MB of rows,
  # more than pgrec may hold (16 MiB across shapes), so that blocks are
  # written and freed long before the end.
  python3 - <<'PY'
import json
with open("in.jsonl", "w") as out:
    for i in range(1, 200001):
        rec = {"seq": i, "pad": f"{i:08d}" * 25}
        bits = i * 7 % 64
        for j in range(6):
            if bits >> j & 1:
                rec[f"c{j}"] = i
        out.write(json.dumps(rec) + "\n")
PY
  run 0 pgrec --stats stats.json -o script.sql t in.jsonl
  local blocks rss
  blocks=$(grep -c '^COPY ' script.sql)
  [ "$blocks" -gt 64 ] || fail "only $blocks blocks: shapes were held to the end"
  rss=$(python3 -c 'import json; print(json.load(open("stats.json"))["peak_rss_kib"])')
  [ "$rss" -lt "$(rss_bound 44000)" ] || fail "pgrec held $rss KiB for 45 MB of rows"
  run 0 pgcopy t script.sql
  assert_eq "200000|200000|200000" "$(sql 'SELECT count(*), count(DISTINCT seq), max(seq) FROM t')" "every record once"
  local j wrong=""
  for j in 0 1 2 3 4 5; do
    wrong+=$(sql "SELECT count(*) FROM t WHERE c$j IS DISTINCT FROM
                    CASE WHEN (seq * 7 % 64) >> $j & 1 = 1 THEN seq ELSE -1$j END
                    OR pad IS DISTINCT FROM repeat(lpad(seq::text, 8, '0'), 25)")
  done
  assert_eq "000000" "$wrong" "rows with a wrong value"
}

test_csv_and_binary_refuse_a_missing_defaulted_key() {
  sql "CREATE TABLE t (id serial PRIMARY KEY, name text, created_at timestamptz NOT NULL DEFAULT now(),
                       note text DEFAULT 'none')"
  printf '%s\n' '{"name": "a", "created_at": "2024-01-01T00:00:00Z", "note": "n"}' \
    '{"name": "b", "note": "n"}' >in.jsonl
  run 1 pgrec -F csv t in.jsonl
  assert_contains "$err" 'in.jsonl:2: key "created_at" is missing, and -F csv cannot leave column created_at to its DEFAULT'
  assert_contains "$err" "hint: the default text output (a script stream for pgcopy) leaves missing keys to their DEFAULT"
  run 1 bash -o pipefail -c 'pgrec -F binary t in.jsonl | pgcopy -F binary -c "$(pgrec --list-columns t)" t'
  assert_contains "$err" 'in.jsonl:2: key "created_at" is missing, and -F binary cannot leave column created_at'
  assert_contains "$err" "without its trailer"
  assert_eq 0 "$(table_count t)" "rows committed"
  # With a reject file the line is set aside with that reason.
  run 3 pgrec -F csv --reject-file rej t in.jsonl
  assert_eq "a,2024-01-01 00:00:00+00,n" "$out"
  assert_contains "$(cat rej.log)" $'in.jsonl\t2\t65\t\tkey "created_at" is missing'
  # --list-columns still names the plain stream's columns.
  assert_eq "name,created_at,note" "$(pgrec --list-columns t)"
  # --missing null writes NULL, as before.
  run 0 pgrec -F csv --missing null t in.jsonl
  assert_eq "$(printf 'a,2024-01-01 00:00:00+00,n\nb,,n')" "$out"
}

# big_records N: N records of two shapes (every other one has "b"), 8 kB each.
big_records() {
  python3 - "$1" <<'PY'
import json, sys
for i in range(1, int(sys.argv[1]) + 1):
    rec = {"seq": i, "pad": "x" * 8000}
    if i % 2:
        rec["b"] = i
    print(json.dumps(rec))
PY
}

# pgrec_read_it_all PID: whether the feed's writer is done and pgrec waits
# for more.
pgrec_read_it_all() { [ -e fed ] && reading_a_pipe "$1"; }

test_a_killed_pgrec_commits_nothing() {
  sql "CREATE TABLE t (id serial PRIMARY KEY, seq int NOT NULL, pad text, b int DEFAULT 0)"
  big_records 1000 >in.jsonl
  # pgrec reads all of in.jsonl, then waits for more and is killed there:
  # blocks of both shapes have gone out by then.
  mkfifo feed rows
  (cat in.jsonl; touch fed; exec sleep infinity) >feed &
  local producer=$! rec copy status=0
  pgrec -q t <feed >rows &
  rec=$!
  pgcopy t <rows >copy.out 2>copy.err &
  copy=$!
  # All of in.jsonl was written and pgrec waits for more: it has read it all.
  wait_until "pgrec waiting for more input" pgrec_read_it_all "$rec"
  wait_for_copy 1
  kill -KILL "$rec"
  wait "$copy" || status=$?
  kill "$producer"
  [ "$status" -ne 0 ] || fail "pgcopy exited with 0 after pgrec was killed: $(cat copy.err)"
  assert_contains "$(cat copy.err)" "the script ends inside the COPY block"
  assert_eq 0 "$(table_count t)" "rows committed"
  no_backend_in_transaction
  # The same from pgrec's whole output cut short, wherever it is cut.
  pgrec -q t in.jsonl >whole.sql
  run 0 pgcopy t whole.sql
  assert_eq 1000 "$(table_count t)"
  sql "TRUNCATE t"
  local size cut
  size=$(stat -c %s whole.sql)
  for cut in 100 $((size / 3)) $((size / 2)) $((size - 4)); do
    head -c "$cut" whole.sql >cut.sql
    run 1 pgcopy t cut.sql
    assert_eq 0 "$(table_count t)" "rows committed from $cut of $size bytes"
  done
}

test_a_line_that_ends_early_is_named_at_its_end() {
  sql "CREATE TABLE t (a text)"
  printf '%s\n' '{"a": "x"}' '{"a": 1,' '{"a": "abc' '{"a": [1, 2' >in.jsonl
  run 3 pgrec --reject-file rej t in.jsonl
  local log
  log=$(cat rej.log)
  assert_contains "$log" $'in.jsonl\t2\t11\t\tinvalid JSON: the line ends at byte 8 inside an object or array (a closing } or ] is missing)'
  assert_contains "$log" $'in.jsonl\t3\t20\t\tinvalid JSON: the line ends at byte 10 inside a string (a closing " is missing)'
  assert_contains "$log" $'in.jsonl\t4\t31\t\tinvalid JSON: the line ends at byte 11 inside an object or array'
  assert_not_contains "$log" "byte column 1:"
}
