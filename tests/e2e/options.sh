# pgcopy's options, each checked against what the server ends up holding.

small_table() { sql "CREATE TABLE t (a int, b text)"; }

test_truncate_replaces_in_one_transaction() {
  small_table
  sql "INSERT INTO t VALUES (1, 'old'), (2, 'old')"
  printf '3\tnew\n' >rows.tsv
  run 0 pgcopy --truncate t rows.tsv
  assert_eq "3|new" "$(sql 'SELECT * FROM t')"
  # A failing load with --truncate keeps the old rows: truncate and load are one transaction.
  printf '4\tnewer\nx\tbad\n' >bad.tsv
  run 2 pgcopy --truncate t bad.tsv
  assert_eq "3|new" "$(sql 'SELECT * FROM t')"
}

# rows_on_frozen_pages TABLE: how many of TABLE's rows lie on pages the
# visibility map marks all-frozen. From 16 on, COPY FREEZE leaves a few
# empty pages, extended ahead, not all-frozen: counting pages would count them.
rows_on_frozen_pages() {
  sql "SELECT count(*) FROM $1 JOIN pg_visibility_map('$1') v
         ON v.blkno = ($1.ctid::text::point)[0]::bigint WHERE v.all_frozen"
}

test_freeze_loads_frozen_rows() {
  small_table
  # No autovacuum may mark the pages of one table and not the other's.
  sql "ALTER TABLE t SET (autovacuum_enabled = off)"
  sql "CREATE EXTENSION IF NOT EXISTS pg_visibility"
  seq 1 50000 | awk '{ print $1 "\tv" $1 }' >rows.tsv
  run 0 pgcopy --truncate --freeze t rows.tsv
  assert_eq 50000 "$(table_count t)"
  assert_eq 50000 "$(rows_on_frozen_pages t)" "rows on all-frozen pages"
  assert_eq "" "$(sql "SELECT * FROM pg_check_frozen('t')")" "unfrozen rows on all-frozen pages"
  # The oracle: the server's own COPY FREEZE of the same input into a twin
  # marks as many pages all-frozen.
  sql "CREATE TABLE twin (LIKE t) WITH (autovacuum_enabled = off)"
  psql -Xq -v ON_ERROR_STOP=1 -c "BEGIN" -c "TRUNCATE twin" -c "COPY twin FROM '$PWD/rows.tsv' (FREEZE)" -c "COMMIT"
  assert_eq 50000 "$(rows_on_frozen_pages twin)" "rows of the server's COPY FREEZE on all-frozen pages"
  local frozen_pages="SELECT all_frozen, count(*) FROM pg_visibility_map"
  assert_eq "$(sql "$frozen_pages('twin') GROUP BY 1 ORDER BY 1")" "$(sql "$frozen_pages('t') GROUP BY 1 ORDER BY 1")" \
    "pages all-frozen or not, after the server's COPY FREEZE and after pgcopy's"
}

test_columns_pick_and_order() {
  sql "CREATE TABLE t (a int, b text, c int DEFAULT 42, \"Mixed Case\" text)"
  printf 'x\t1\tm\ny\t2\tn\n' >rows.tsv
  run 0 pgcopy -c 'b, a, "Mixed Case"' t rows.tsv
  assert_eq "1|x|42|m,2|y|42|n" "$(sql "SELECT string_agg(concat_ws('|', a, b, c, \"Mixed Case\"), ',' ORDER BY a) FROM t")"
}

test_text_delimiter_and_null() {
  small_table
  printf '1|one\n2|NULL\n' >rows.txt
  run 0 pgcopy --delimiter '|' --null NULL t rows.txt
  assert_eq 1 "$(sql 'SELECT count(*) FROM t WHERE b IS NULL')"
}

test_csv_header_is_skipped() {
  small_table
  printf 'a,b\n1,"one, two"\n2,"say ""hi"""\n' >rows.csv
  run 0 pgcopy -F csv --header t rows.csv
  assert_eq 'one, two|say "hi"' "$(sql "SELECT string_agg(b, '|' ORDER BY a) FROM t")"
}

test_encoding_of_the_input() {
  small_table
  printf '1\t\xe9t\xe9\n' >latin1.tsv
  run 0 pgcopy --encoding LATIN1 t latin1.tsv
  assert_eq "été" "$(sql 'SELECT b FROM t')"
  run 2 pgcopy t latin1.tsv
  assert_contains "$err" "latin1.tsv:1: invalid byte sequence for encoding \"UTF8\""
}

test_quoted_and_qualified_table_names() {
  sql "CREATE SCHEMA \"My Schema\""
  sql "CREATE TABLE \"My Schema\".\"We.ird \"\"name\"\"\" (a int)"
  sql "CREATE TABLE \"My Schema\".plain (a int)"
  printf '1\n2\n' >rows.tsv
  run 0 pgcopy '"My Schema"."We.ird ""name"""' rows.tsv
  run 0 pgcopy '"My Schema".PLAIN' rows.tsv
  assert_eq 2 "$(sql "SELECT count(*) FROM \"My Schema\".\"We.ird \"\"name\"\"\"")"
  assert_eq 2 "$(sql "SELECT count(*) FROM \"My Schema\".plain")"
}

test_summary_and_stats_come_from_the_server() {
  small_table
  printf '1\ta\n2\tb\n3\tc' >rows.tsv   # no final newline: still three rows
  run 0 pgcopy --stats stats.json t rows.tsv
  assert_contains "$err" "pgcopy: loaded 3 rows (11 B) into t in"
  python3 - <<'PY'
import json
s = json.load(open("stats.json"))
assert s["program"] == "pgcopy" and s["target"] == "t", s
assert s["status"] == "ok" and s["committed"] is True, s
assert s["rows"] == 3 and s["bytes"] == 11 and s["input_bytes"] == 11, s
assert s["seconds"] > 0 and s["peak_rss_kib"] > 0, s
PY
  printf '4\tx\nbad\n' >bad.tsv
  run 2 pgcopy --stats fail.json t bad.tsv
  python3 - <<'PY'
import json
s = json.load(open("fail.json"))
assert s["status"] == "error" and s["committed"] is False, s
assert "bad.tsv:2" in s["error"] and s["rows"] == 0, s
PY
  # Failures before connecting write stats too; an unwritable stats file
  # does not turn a committed load into a failure.
  run 1 pgcopy --stats early.json t missing.tsv
  grep -q '"status": "error"' early.json || fail "no stats for an early failure"
  run 0 pgcopy --stats /nonexistent/dir/s.json t rows.tsv
  assert_contains "$err" "the load itself was committed"
}

test_quiet_prints_nothing_on_success() {
  small_table
  printf '1\ta\n' >rows.tsv
  run 0 pgcopy -q t rows.tsv
  assert_eq "" "$err" "stderr"
  assert_eq "" "$out" "stdout"
}

test_progress_only_when_asked_off_a_terminal() {
  small_table
  # A slow producer, so that a progress update falls due between chunks.
  cat >slow.sh <<'SH'
for i in 0 1 2; do
  seq $((i * 1000 + 1)) $((i * 1000 + 1000)) | awk '{ print $1 "\tx" }'
  sleep 1.1
done
SH
  run 0 sh -c 'sh slow.sh | pgcopy --progress t'
  grep -Eq '^pgcopy: [0-9,]+ rows  [0-9.]+ kB  [0-9,]+ rows/s' err || fail "no progress line in [$err]"
  assert_contains "$err" "loaded 3,000 rows"
  sql "TRUNCATE t"
  run 0 sh -c 'sh slow.sh | pgcopy t'
  assert_not_contains "$err" " rows  " "default progress off a terminal"
  assert_contains "$err" "loaded 3,000 rows"
}

test_connection_flags_and_uris() {
  small_table
  printf '1\ta\n' >rows.tsv
  local host=$PGHOST port=$PGPORT user=$PGUSER db=$PGDATABASE
  (unset PGHOST PGPORT PGUSER PGDATABASE
   pgcopy -q -h "$host" -p "$port" -U "$user" -d "$db" t rows.tsv
   pgcopy -q --host "$host" --port "$port" --username "$user" --dbname "$db" t rows.tsv
   pgcopy -q -d "postgresql://$user@127.0.0.1:$port/$db" t rows.tsv
   pgcopy -q -d "host=$host port=$port user=$user dbname=$db" t rows.tsv)
  assert_eq 4 "$(table_count t)"
}

test_pg_service_file() {
  small_table
  printf '1\ta\n' >rows.tsv
  printf '[loadtarget]\nhost=%s\nport=%s\nuser=%s\ndbname=%s\n' "$PGHOST" "$PGPORT" "$PGUSER" "$PGDATABASE" >services.conf
  (unset PGHOST PGPORT PGUSER PGDATABASE
   PGSERVICEFILE=$PWD/services.conf PGSERVICE=loadtarget pgcopy -q t rows.tsv
   PGSERVICEFILE=$PWD/services.conf pgcopy -q -d service=loadtarget t rows.tsv)
  assert_eq 2 "$(table_count t)"
}

test_a_csv_header_that_does_not_match_is_refused() {
  sql "CREATE TABLE t (a int, b text)"
  printf 'a,wrong\n1,x\n' >h.csv
  run 1 pgcopy -F csv --header t h.csv
  assert_contains "$err" 'h.csv:1: the header'"'"'s field 2 names "wrong", which is not a column of t'
  run 1 pgcopy -F csv --header --batch-rows 10 t h.csv
  assert_contains "$err" 'h.csv:1: the header'"'"'s field 2 names "wrong", which is not a column of t'
  # With -c, the header must name those columns, in order.
  run 1 pgcopy -F csv --header -c a,b t h.csv
  assert_contains "$err" 'h.csv:1: the header does not match the columns: field 2 is "wrong", expected "b"'
  run 1 pgcopy -F csv --header -c a,b --batch-rows 10 t h.csv
  assert_contains "$err" 'h.csv:1: the header does not match the columns: field 2 is "wrong", expected "b"'
  printf 'b,a\nx,1\n' >swapped.csv
  run 0 pgcopy -F csv --header -c b,a --batch-rows 10 t swapped.csv
  run 0 pgcopy -F csv --header -c b,a t swapped.csv
  assert_eq 2 "$(table_count t)" "the two matching loads"
}

test_binary_input_is_detected_by_its_signature() {
  pggen --ddl --preset posts | psql -Xq -v ON_ERROR_STOP=1
  run 0 sh -c 'pggen -q --preset posts -n 20 -F binary | pgcopy --toast-compression pglz posts'
  assert_contains "$err" "loaded 20 rows"
  run 2 sh -c 'pggen -q --preset posts -n 20 -F binary | pgcopy -F text posts'
  assert_eq 20 "$(table_count posts)"
}

test_batches_stay_small_in_memory_whatever_the_row_count() {
  pggen --ddl --preset posts | psql -Xq -v ON_ERROR_STOP=1
  pggen -q --preset posts -n 3000 >posts.tsv   # 100 MB
  run 0 pgcopy --batch-rows 100k --stats s.json posts posts.tsv
  python3 -c "import json; s = json.load(open('s.json')); assert s['batches'] > 3 and s['peak_rss_kib'] < $(rss_bound 81920), s"
}
