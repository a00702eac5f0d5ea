# pginsert: every strategy inserts exactly the rows pgcopy would, escapes and
# NULLs included; refused rows are named; upserts work natively.

hostile_table() {
  sql "CREATE TABLE h (id int PRIMARY KEY, s text, n numeric, b bytea, a int[])"
  sql "INSERT INTO h SELECT i, CASE i % 5 WHEN 0 THEN NULL WHEN 1 THEN E'tab\\there' WHEN 2 THEN E'new\\nline\\\\x'
         WHEN 3 THEN '\\N' ELSE 'ünï 😀' END, i / 3.0, decode(md5(i::text), 'hex'), ARRAY[i, NULL]
       FROM generate_series(1, 3000) i"
  psql -XAtq -c "COPY (SELECT * FROM h ORDER BY id) TO STDOUT" >expected
  sql "CREATE TABLE t (LIKE h INCLUDING ALL)"
}

test_every_strategy_round_trips_hostile_values() {
  hostile_table
  for strategy in row txn values pipeline; do
    sql "TRUNCATE t"
    run 0 pginsert --strategy $strategy --batch 250 t expected
    assert_contains "$err" "inserted 3,000 rows"
    psql -XAtq -c "COPY (SELECT * FROM t ORDER BY id) TO STDOUT" >actual
    assert_same_file expected actual
  done
}

test_values_batch_is_capped_by_the_parameter_limit() {
  hostile_table
  run 0 pginsert --strategy values --batch 100000 t expected
  assert_contains "$err" "--batch lowered to 13107 rows"
  assert_eq 3000 "$(table_count t)"
}

test_a_refused_row_is_named_and_what_committed_is_said() {
  sql "CREATE TABLE t (id int PRIMARY KEY, v text)"
  printf '1\ta\n2\tb\n2\tdup\n3\tc\n' >rows.tsv
  run 2 pginsert --strategy txn t rows.tsv
  assert_contains "$err" "rows.tsv:3: duplicate key value violates unique constraint"
  assert_contains "$err" "nothing was committed"
  assert_eq 0 "$(table_count t)"
  run 2 pginsert --strategy pipeline --batch 2 t rows.tsv
  assert_contains "$err" "rows.tsv:3: duplicate key"
  assert_eq 0 "$(table_count t)"
  run 2 pginsert --strategy row t rows.tsv
  assert_contains "$err" "2 rows were committed before it"
  assert_eq 2 "$(table_count t)"
  printf '1\ta\textra\n' >wide.tsv
  sql "TRUNCATE t"
  printf '1\ta\n2\tb\textra\n' >ragged.tsv
  run 1 pginsert t ragged.tsv
  assert_contains "$err" "ragged.tsv:2: 3 fields where 2 columns are loaded"
  printf '7\n' >short.tsv
  run 1 pginsert t short.tsv
  assert_contains "$err" "short.tsv:1: 1 field where 2 columns are loaded"
  run 2 pginsert no_such_table </dev/null
  assert_contains "$err" 'relation "no_such_table" does not exist'
  printf '8\tx\n\\.\n9\ty\n' >marker.tsv
  run 0 pginsert t marker.tsv
  assert_eq 1 "$(sql 'SELECT count(*) FROM t WHERE id = 8')" "rows before the end marker"
  assert_eq 0 "$(sql 'SELECT count(*) FROM t WHERE id = 9')" "rows after the end marker"
  # The data before a \. that ends a row is a row, as the server reads it
  # (issue 20, item 1), for every strategy, LF and CRLF; PostgreSQL 18
  # refuses such a line (end-of-copy marker is not alone on its line).
  local strategy major
  major=$(server_major)
  for strategy in row txn values pipeline; do
    sql "TRUNCATE t"
    printf '1\tx\n2\tb\\.\n3\ty\n' >data_marker.tsv
    printf '2\tb\\.\r\n' >crlf_marker.tsv
    if [ "$major" -ge 18 ]; then
      run 1 pginsert --strategy "$strategy" t data_marker.tsv
      assert_contains "$err" "data_marker.tsv:2: end-of-copy marker is not alone on its line"
      run 1 pginsert --strategy "$strategy" t crlf_marker.tsv
      assert_contains "$err" "crlf_marker.tsv:1: end-of-copy marker is not alone on its line"
      assert_eq 0 "$(sql "SELECT count(*) FROM t WHERE id = 2")" "the refused rows of --strategy $strategy"
      continue
    fi
    run 0 pginsert --strategy "$strategy" t data_marker.tsv
    assert_eq "1|x,2|b" "$(sql "SELECT string_agg(id || '|' || v, ',' ORDER BY id) FROM t")" "rows of --strategy $strategy"
    sql "TRUNCATE t"
    run 0 pginsert --strategy "$strategy" t crlf_marker.tsv
    assert_eq "2|b" "$(sql "SELECT string_agg(id || '|' || v, ',' ORDER BY id) FROM t")" "a CRLF row of --strategy $strategy"
  done
}

test_on_conflict_natively() {
  sql "CREATE TABLE t (id int PRIMARY KEY, v text)"
  printf '1\told\n2\told\n' | pginsert -q t
  printf '2\tnew\n3\tnew\n' >upd.tsv
  for strategy in values pipeline; do
    sql "TRUNCATE t"
    printf '1\told\n2\told\n' | pginsert -q t
    run 0 pginsert --strategy $strategy --on-conflict update t upd.tsv
    assert_eq "1:old 2:new 3:new" "$(sql "SELECT string_agg(id || ':' || v, ' ' ORDER BY id) FROM t")"
  done
  sql "TRUNCATE t"
  printf '1\told\n2\told\n' | pginsert -q t
  run 0 pginsert --on-conflict ignore --conflict-columns id t upd.tsv
  assert_eq "1:old 2:old 3:new" "$(sql "SELECT string_agg(id || ':' || v, ' ' ORDER BY id) FROM t")"
  run 1 pginsert --strategy sideways t upd.tsv
  assert_contains "$err" 'unknown strategy "sideways"'
}

# pginsert reads fields with lib/io's copy_field_reader: each value it
# inserts is the one COPY stores for the same line (an escaped tab is data,
# octal and hex escapes, \N alone is NULL, an escaped backslash before N is not).
test_fields_read_as_copy_reads_them() {
  sql "CREATE TABLE by_copy (x text, y text, z text)"
  sql "CREATE TABLE by_insert (LIKE by_copy)"
  printf 'tab\\\there\t\\101\\x42\\1034\t\\\\N\n\\N\t\\Nx\ta\\\\b\\q\n\t\t\n' >tricky.tsv
  # A last field ending in an escaped line end (backslash LF, backslash CR).
  printf 'lf\tb\tc\\\n\ncr\tb\tc\\\r\n' >>tricky.tsv
  psql -Xq -v ON_ERROR_STOP=1 -c "\\copy by_copy FROM tricky.tsv"
  run 0 pginsert by_insert tricky.tsv
  assert_contains "$err" "inserted 5 rows"
  assert_eq "$(sql "SELECT string_agg(format('%L|%L|%L', x, y, z), ',' ORDER BY x NULLS FIRST) FROM by_copy")" \
    "$(sql "SELECT string_agg(format('%L|%L|%L', x, y, z), ',' ORDER BY x NULLS FIRST) FROM by_insert")"
  assert_eq "NULL|'Nx'|E'a\\\\bq'" "$(sql "SELECT format('%L|%L|%L', x, y, z) FROM by_insert WHERE x IS NULL")"
}
