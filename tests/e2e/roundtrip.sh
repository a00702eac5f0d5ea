# Round trips: a table → COPY TO STDOUT → file → pgcopy → a twin table →
# COPY TO STDOUT → byte comparison with the file. Every format, plain and
# zstd, from files, stdin and several files at once.

# make_source: a table of many types and hostile values: tabs, newlines,
# carriage returns, backslashes, quotes, a literal \N beside real NULLs,
# unicode, emoji, empty strings, and a few 1 MB values that span chunks.
make_source() {
  sql "CREATE TABLE src (
         id int PRIMARY KEY, i2 int2, i8 int8, n numeric, f4 real, f8 float8, b bool,
         t text, vc varchar(40), ch char(5), by bytea, d date, ts timestamp, tstz timestamptz,
         iv interval, u uuid, j json, jb jsonb, ia int[], ta text[], ip inet)"
  sql "INSERT INTO src SELECT i, (i % 32000)::int2, i::int8 * 1000003, (i / 7.0)::numeric(20,6),
         i / 3.0, i * 1.0e-3, i % 3 = 0,
         CASE i % 9 WHEN 0 THEN NULL WHEN 1 THEN E'tab\there' WHEN 2 THEN E'new\nline'
              WHEN 3 THEN E'back\\\\slash' WHEN 4 THEN '\\N' WHEN 5 THEN 'quote\"s, comma'
              WHEN 6 THEN 'ünïcödé 😀 ☃' WHEN 7 THEN E'cr\rlf' ELSE '' END
           || CASE WHEN i % 6000 = 0 THEN repeat('x', 1000000) ELSE '' END,
         'v' || i, lpad((i % 100)::text, 5), decode(md5(i::text), 'hex'),
         date '2000-01-01' + i % 9000, timestamp '2020-01-01' + i * interval '1 minute',
         timestamptz '2020-01-01 00:00+02' + i * interval '1 second', i * interval '1 hour',
         md5(i::text)::uuid, json_build_object('i', i, 's', E'a\tb'),
         jsonb_build_object('k', i, 'arr', jsonb_build_array(i, 'x')),
         ARRAY[i, NULL, -i], ARRAY['a b', NULL, E'q\"\\\\'], ('10.0.' || (i % 256) || '.1')::inet
       FROM generate_series(1, 20000) i"
}

# ordered TABLE OPTIONS [WHERE]: the table's rows by id, as COPY TO STDOUT (OPTIONS) writes them.
ordered() { psql -XAtq -c "COPY (SELECT * FROM $1 ${3:-} ORDER BY id) TO STDOUT ($2)"; }

# roundtrip FORMAT [COMPRESS]: one full round trip through a file.
roundtrip() {
  local format=$1 compress=${2:-}
  make_source
  sql "CREATE TABLE dst (LIKE src INCLUDING ALL)"
  ordered src "FORMAT $format" >expected
  local input=expected
  if [ -n "$compress" ]; then
    zstd -q -3 expected -o expected.zst
    input=expected.zst
  fi
  run 0 pgcopy -F "$format" dst "$input"
  assert_contains "$err" "loaded 20,000 rows" "summary"
  ordered dst "FORMAT $format" >actual
  assert_same_file expected actual
}

test_text_roundtrip() { roundtrip text; }
test_csv_roundtrip() { roundtrip csv; }
test_binary_roundtrip() { roundtrip binary; }
test_text_zstd_roundtrip() { roundtrip text zstd; }
test_csv_zstd_roundtrip() { roundtrip csv zstd; }
test_binary_zstd_roundtrip() { roundtrip binary zstd; }

test_stdin_and_dash_roundtrip() {
  make_source
  sql "CREATE TABLE dst (LIKE src INCLUDING ALL)"
  export_table src text expected
  pgcopy -q dst <expected
  pgcopy -q --truncate dst - <expected
  export_table dst text actual
  assert_same_file expected actual
}

test_several_files_one_transaction() {
  make_source
  sql "CREATE TABLE dst (LIKE src INCLUDING ALL)"
  ordered src "FORMAT text" >expected
  split -l 7000 expected part.
  zstd -q part.ab -o part.ab.zst && rm part.ab
  run 0 pgcopy dst part.aa part.ab.zst part.ac
  assert_contains "$err" "loaded 20,000 rows"
  ordered dst "FORMAT text" >actual
  assert_same_file expected actual
}

test_several_binary_files() {
  make_source
  sql "CREATE TABLE dst (LIKE src INCLUDING ALL)"
  ordered src "FORMAT binary" "WHERE id <= 5000" >one
  ordered src "FORMAT binary" "WHERE id > 5000" >two
  ordered src "FORMAT binary" >expected
  run 0 pgcopy -F binary dst one two
  ordered dst "FORMAT binary" >actual
  assert_same_file expected actual
}

test_concatenated_zstd_frames_from_a_pipe() {
  make_source
  sql "CREATE TABLE dst (LIKE src INCLUDING ALL)"
  ordered src "FORMAT csv" >expected
  head -n 100 expected | zstd -q -c >frames.zst
  tail -n +101 expected | zstd -q -9 -c >>frames.zst
  cat frames.zst | pgcopy -q -F csv dst
  ordered dst "FORMAT csv" >actual
  assert_same_file expected actual
}

test_csv_with_header_and_options_roundtrip() {
  make_source
  sql "CREATE TABLE dst (LIKE src INCLUDING ALL)"
  local opts="FORMAT csv, HEADER, DELIMITER ';', QUOTE '''', ESCAPE '\\', NULL 'NULL'"
  ordered src "$opts" >expected
  pgcopy -q -F csv --header --delimiter ';' --quote "'" --escape '\' --null NULL dst expected
  ordered dst "$opts" >actual
  assert_same_file expected actual
}
