# pgcopy never exits 0 with rows missing: end-of-data markers inside the
# input, scripts that name another table, resumes over changed input, and the
# inputs it must refuse by name (gzip, bzip2, xz, broken binary framing).

# two_col: a table of (id int, name text) and 1,000 rows of it in t.tsv.
two_col() {
  sql "CREATE TABLE t (id int, name text)"
  seq 1 1000 | awk '{print $1 "\tn" $1}' >t.tsv
}

# with_marker_after N: t.tsv with a line "\." after line N, into m.tsv.
with_marker_after() { (head -n "$1" t.tsv; printf '\\.\n'; tail -n +"$(($1 + 1))" t.tsv) >m.tsv; }

test_a_marker_mid_input_fails_the_streamed_load_naming_its_line() {
  two_col
  with_marker_after 9
  run 1 pgcopy t m.tsv
  assert_contains "$err" "m.tsv:10: end-of-data marker \\. before the end of the input"
  assert_contains "$err" "nothing was committed"
  assert_eq 0 "$(table_count t)"
  # On stdin, in CSV, and in text after data on the same line (the server
  # ends the data at an unescaped \. anywhere in a line).
  run 1 pgcopy t <m.tsv
  assert_contains "$err" "stdin:10:"
  (head -n 3 t.tsv; printf '4\tfour\\.\n'; tail -n +5 t.tsv) >inline.tsv
  run 1 pgcopy t inline.tsv
  tr '\t' , <m.tsv >m.csv
  if [ "$(server_major)" -ge 18 ]; then
    # 18 refuses a \. after data, and reads a CSV \. line as a row of one field.
    assert_contains "$err" "inline.tsv:4: end-of-copy marker is not alone on its line"
    run 2 pgcopy -F csv t m.csv
    assert_contains "$err" 'm.csv:10: invalid input syntax for type integer: "\."'
  else
    assert_contains "$err" "inline.tsv:4: end-of-data marker"
    run 1 pgcopy -F csv t m.csv
    assert_contains "$err" "m.csv:10: end-of-data marker"
  fi
  assert_eq 0 "$(table_count t)"
}

test_a_marker_mid_input_stops_batches_and_jobs_saying_what_committed() {
  two_col
  with_marker_after 9
  run 1 pgcopy --batch-rows 100 t m.tsv
  assert_contains "$err" "m.tsv:10: end-of-data marker"
  assert_contains "$err" "9 rows were committed"
  assert_eq 9 "$(table_count t)"
  sql "TRUNCATE t"
  with_marker_after 500
  run 1 pgcopy --jobs 2 --batch-rows 100 t m.tsv
  assert_contains "$err" "m.tsv:501: end-of-data marker"
  # Whatever committed is a whole prefix of batches before the marker.
  [ "$(table_count t)" -le 500 ] || fail "rows after the marker were loaded"
  assert_eq 0 "$(sql 'SELECT count(*) FROM t WHERE id > 500')"
}

test_a_marker_mid_input_is_rejected_like_a_bad_row_with_a_reject_file() {
  two_col
  with_marker_after 9
  run 3 pgcopy --batch-rows 100 --reject-file rejects.tsv t m.tsv
  assert_eq 1000 "$(table_count t)"
  assert_eq "$(md5sum <t.tsv)" "$(psql -XAtq -c 'COPY (SELECT * FROM t ORDER BY id) TO STDOUT' | md5sum)"
  assert_eq '\.' "$(cat rejects.tsv)"
  assert_contains "$(cat rejects.tsv.log)" "m.tsv	10	"
  assert_contains "$(cat rejects.tsv.log)" "22P04"
  sql "TRUNCATE t"
  run 3 pgcopy --jobs 2 --batch-rows 100 --reject-file rejects.tsv t m.tsv
  assert_eq 1000 "$(table_count t)"
}

test_markers_that_end_inputs_and_quoted_markers_are_fine() {
  two_col
  (cat t.tsv; printf '\\.\n') >ends.tsv
  run 0 pgcopy t ends.tsv ends.tsv
  assert_eq 2000 "$(table_count t)"
  run 0 pgcopy --batch-rows 300 t ends.tsv ends.tsv
  assert_eq 4000 "$(table_count t)"
  sql "TRUNCATE t"
  printf '1,"\\."\n2,"a\n\\.\nb"\n3,x\n' >quoted.csv
  run 0 pgcopy -F csv t quoted.csv
  assert_eq '1|\.' "$(sql 'SELECT * FROM t WHERE id = 1')"
  assert_eq 3 "$(table_count t)"
  assert_eq "$(printf 'a\n\\.\nb')" "$(sql 'SELECT name FROM t WHERE id = 2')"
  run 0 pgcopy -F csv --batch-rows 1 t quoted.csv
  assert_eq 6 "$(table_count t)"
  # An escaped backslash before a dot is data in text.
  printf '7\tend\\\\.\n8\tx\n' >escaped.tsv
  run 0 pgcopy t escaped.tsv
  assert_eq 'end\.' "$(sql 'SELECT name FROM t WHERE id = 7')"
}

# same_as_psql FILE PGCOPY_ARGS...: loads FILE into t with pgcopy, and with
# psql's \copy into a fresh copy of t, and fails unless both hold the same rows.
same_as_psql() {
  local file=$1
  shift
  sql "DROP TABLE IF EXISTS t_psql; CREATE TABLE t_psql (LIKE t); TRUNCATE t"
  psql -Xq -v ON_ERROR_STOP=1 -c "\\copy t_psql from '$file'"
  run 0 pgcopy "$@" t "$file"
  assert_eq "$(sql 'SELECT * FROM t_psql ORDER BY id')" "$(sql 'SELECT * FROM t ORDER BY id')" \
    "rows of $file after pgcopy $*"
}

test_a_row_that_ends_in_a_marker_loads_as_the_server_reads_it() {
  [ "$(server_major)" -lt 18 ] || skip "PostgreSQL 18 refuses such a row:" \
    "test_a_text_row_ending_in_a_marker_is_read_as_the_server_of_each_version_reads_it covers it"
  two_col
  # The server takes the row's data before an unescaped \. and ends there.
  (cat t.tsv; printf '1001\tlast\\.\n') >lf.tsv
  printf '7\tonly\\.\n' >one.tsv
  (sed 's/$/\r/' t.tsv; printf '1001\tlast\\.\r\n') >crlf.tsv
  (cat t.tsv; printf '1001\tlast\\\\.\n') >escaped.tsv # \\ then a dot: data
  local f mode
  for f in lf.tsv one.tsv crlf.tsv escaped.tsv; do
    for mode in "" "--batch-rows 100" "--send-binary" "--fast" "--reject-file r.tsv" "--jobs 2 --batch-rows 100"; do
      # shellcheck disable=SC2086 # the mode is words
      same_as_psql "$f" $mode
    done
  done
  assert_eq 'last\.' "$(sql 'SELECT name FROM t WHERE id = 1001')" "an escaped backslash and a dot"
  same_as_psql crlf.tsv
  assert_eq "1001|last" "$(sql 'SELECT count(*), max(name) FILTER (WHERE id = 1001) FROM t')"
  # psql stops at a one-line input's marker too: the row loads.
  run 0 pgcopy t one.tsv
  assert_contains "$err" "loaded 1 row"
}

test_rows_after_a_marker_that_ends_a_row_of_data_fail_or_are_rejected() {
  two_col
  (head -n 9 t.tsv; printf '10\tn10\\.\n'; tail -n +11 t.tsv) >m.tsv
  if [ "$(server_major)" -ge 18 ]; then
    # 18 refuses the line: the rows after it load with a reject file.
    run 1 pgcopy t m.tsv
    assert_contains "$err" "m.tsv:10: end-of-copy marker is not alone on its line"
    assert_eq 0 "$(table_count t)" "rows committed by the refused load"
    run 3 pgcopy --jobs 2 --batch-rows 7 --reject-file rejects.tsv t m.tsv
    assert_eq "999|999" "$(sql 'SELECT count(*), count(DISTINCT id) FROM t')"
    assert_eq "$(printf '10\tn10\\.')" "$(cat rejects.tsv)"
  else
  run 1 pgcopy t m.tsv
  assert_contains "$err" "m.tsv:10: end-of-data marker \\. before the end of the input"
  assert_eq 0 "$(table_count t)"
  run 1 pgcopy --batch-rows 100 t m.tsv
  assert_contains "$err" "m.tsv:10: end-of-data marker"
  assert_contains "$err" "10 rows were committed"
  assert_eq 10 "$(table_count t)"
  sql "TRUNCATE t"
  # The marker is rejected, not its row's data: every row of t.tsv loads.
  run 3 pgcopy --batch-rows 100 --reject-file rejects.tsv t m.tsv
  assert_eq "$(md5sum <t.tsv)" "$(psql -XAtq -c 'COPY (SELECT * FROM t ORDER BY id) TO STDOUT' | md5sum)"
  assert_eq '\.' "$(cat rejects.tsv)"
  assert_contains "$(cat rejects.tsv.log)" "m.tsv	10	"
  assert_contains "$(cat rejects.tsv.log)" "22P04"
  sql "TRUNCATE t"
  run 3 pgcopy --jobs 2 --batch-rows 7 --reject-file rejects.tsv t m.tsv
  assert_eq "1000|1000" "$(sql 'SELECT count(*), count(DISTINCT id) FROM t')"
  fi
  # In the middle of a line, or with no line end after it, \. is no marker:
  # the server refuses the row (each version in its words), and so does pgcopy.
  local corrupt="end-of-copy marker corrupt"
  [ "$(server_major)" -lt 18 ] || corrupt="end-of-copy marker is not alone on its line"
  printf '1\tone\n2\ttw\\.o\n' >mid.tsv
  run 2 pgcopy t mid.tsv
  assert_contains "$err" "mid.tsv:2: $corrupt"
  printf '1\tone\n2\ttwo\\.' >open.tsv
  run 2 pgcopy t open.tsv
  assert_contains "$err" "open.tsv:2: $corrupt"
}

test_a_script_row_that_ends_in_a_marker_loads() {
  sql "CREATE TABLE t (id int, name text)"
  printf 'COPY t (id, name) FROM stdin;\n1\tone\n2\ttwo\\.\n\\.\nCOPY t (id, name) FROM stdin;\n3\tthree\n\\.\n' >s.sql
  if [ "$(server_major)" -ge 18 ]; then # 18 refuses the block, as pgcopy does
    psql -Xq -v ON_ERROR_STOP=1 -f s.sql 2>psql.err && fail "psql loaded s.sql"
    assert_contains "$(cat psql.err)" "end-of-copy marker is not alone on its line"
    run 1 pgcopy t s.sql
    assert_contains "$err" "s.sql:3: end-of-copy marker is not alone on its line"
    return
  fi
  psql -Xq -v ON_ERROR_STOP=1 -f s.sql
  local expected
  expected=$(sql 'SELECT * FROM t ORDER BY id')
  assert_eq 3 "$(table_count t)" "rows psql loads"
  sql "TRUNCATE t"
  run 0 pgcopy t s.sql
  assert_eq "$expected" "$(sql 'SELECT * FROM t ORDER BY id')"
  # Rows between such a marker and the block's end: the server would drop them.
  printf 'COPY t (id, name) FROM stdin;\n1\tone\n2\ttwo\\.\n3\tthree\n\\.\n' >after.sql
  run 1 pgcopy t after.sql
  assert_contains "$err" "after.sql:3: end-of-data marker"
}

test_a_table_given_with_a_script_for_another_table_is_refused() {
  sql "CREATE TABLE t (id int, name text); CREATE TABLE other (id int, name text)"
  printf 'COPY t (id, name) FROM stdin;\n1\tone\n\\.\n' >script.sql
  run 1 pgcopy other <script.sql
  assert_contains "$err" "stdin:1: the script loads into"
  assert_contains "$err" "not into other"
  assert_eq "0|0" "$(sql 'SELECT (SELECT count(*) FROM t), (SELECT count(*) FROM other)')"
  # The same table: loads; no TABLE: detected as a script.
  run 0 pgcopy t <script.sql
  run 0 pgcopy <script.sql
  run 0 pgcopy --script script.sql
  assert_eq 3 "$(table_count t)"
  # A row of data that only starts with "COPY" is data when TABLE is given.
  printf 'COPY 1\t2\n' | pgcopy -q -c name,id other
  assert_eq "2|COPY 1" "$(sql 'SELECT * FROM other')"
  run 1 pgcopy <t.tsv 2>/dev/null || true
  printf '1\tone\n' >rows.tsv
  run 1 pgcopy <rows.tsv
  assert_contains "$err" "no table given, and stdin is not a script stream"
  # In batches too (one engine): the same table loads, another is refused.
  run 0 pgcopy --batch-rows 1 t <script.sql
  assert_eq 4 "$(table_count t)"
}

test_a_resume_key_refuses_changed_input() {
  sql "CREATE TABLE t (id int CHECK (id < 1000000), name text)"
  seq 1 1000 | awk '{ if ($1 == 601) print "2000000\tbad"; else print $1 "\ta" $1 }' >input.tsv
  run 2 pgcopy --batch-rows 100 --resume-key k t input.tsv
  assert_eq 600 "$(table_count t)"
  # Different rows under the same name: refused, nothing more loaded.
  seq 1 1000 | awk '{print $1 "\tb" $1}' >input.tsv
  run 1 pgcopy --batch-rows 100 --resume-key k t input.tsv
  assert_contains "$err" "is not the input that resume key \"k\" was loading"
  assert_contains "$err" "DELETE FROM pgpipe.load_progress WHERE key = 'k'"
  assert_not_contains "$err" "to go on"
  assert_eq 600 "$(table_count t)"
  # The first rows as they were, the bad one fixed: the resume goes on.
  seq 1 1000 | awk '{print $1 "\ta" $1}' >input.tsv
  run 0 pgcopy --batch-rows 100 --resume-key k t input.tsv
  assert_eq "1000|1000" "$(sql 'SELECT count(*), count(DISTINCT id) FROM t')"
  # stdin, and a batch size other than the first run's.
  sql "TRUNCATE t"
  seq 1 1000 | awk '{ if ($1 == 601) print "2000000\tbad"; else print $1 "\ta" $1 }' >first.tsv
  run 2 pgcopy --batch-rows 100 --resume-key s t <first.tsv
  seq 1 1000 | awk '{print $1 "\tc" $1}' >other.tsv
  run 1 pgcopy --batch-rows 70 --resume-key s t <other.tsv
  assert_contains "$err" "\"stdin\" is not the input"
  assert_eq 600 "$(table_count t)"
}

test_a_resume_key_refuses_changed_input_with_jobs() {
  sql "CREATE TABLE t (id int CHECK (id < 1000000), name text)"
  seq 1 1000 | awk '{ if ($1 == 901) print "2000000\tbad"; else print $1 "\ta" $1 }' >input.tsv
  run 2 pgcopy --jobs 2 --batch-rows 100 --resume-key j t input.tsv
  local loaded
  loaded=$(table_count t)
  [ "$loaded" -gt 0 ] || fail "nothing committed before the bad row"
  seq 1 1000 | awk '{print $1 "\tz" $1}' >input.tsv
  run 1 pgcopy --jobs 2 --batch-rows 100 --resume-key j t input.tsv
  assert_contains "$err" "is not the input that resume key \"j\" was loading"
  assert_eq 0 "$(sql "SELECT count(*) FROM t WHERE name LIKE 'z%'")" "rows of the changed input"
}

# Issue 20, item 2: a rerun that would read the rest of the input otherwise
# (another column order, delimiter, NULL string, table) is refused; options
# that change only the speed are not.
test_a_resume_key_refuses_a_rerun_of_another_shape() {
  sql "CREATE TABLE t (a text, b text, n int CHECK (n <> 601))"
  seq 1 1000 | awk '{print "a" $1 "\tb" $1 "\t" $1}' >input.tsv
  run 2 pgcopy -c a,b,n --batch-rows 100 --resume-key k t input.tsv
  assert_eq 600 "$(table_count t)"
  sql "ALTER TABLE t DROP CONSTRAINT t_n_check"
  run 1 pgcopy -c b,a,n --batch-rows 100 --resume-key k t input.tsv
  assert_contains "$err" 'resume key "k" was loading with other options: columns: "a, b, n" then, "b, a, n" now'
  assert_contains "$err" "DELETE FROM pgpipe.load_progress WHERE key = 'k'"
  assert_not_contains "$err" "to go on"
  run 1 pgcopy -c a,b,n --null x --batch-rows 100 --resume-key k t input.tsv
  assert_contains "$err" 'null: "\\N" then, "x" now'
  run 1 pgcopy -c a,b,n -F csv --delimiter "$(printf '\t')" --batch-rows 100 --resume-key k t input.tsv
  assert_contains "$err" 'format: "text" then, "csv" now'
  assert_eq 600 "$(table_count t)"
  assert_eq 0 "$(sql "SELECT count(*) FROM t WHERE a LIKE 'b%'")" "rows with a and b swapped"
  # Jobs and batch sizes may change: the rest loads, exactly.
  run 0 pgcopy -c a,b,n --jobs 2 --batch-rows 70 --resume-key k t input.tsv
  assert_eq "1000|1000|0" "$(sql "SELECT count(*), count(DISTINCT n), count(*) FILTER (WHERE a <> 'a' || n OR b <> 'b' || n) FROM t")"
  # With --jobs, and the table dropped and made again under its name.
  sql "CREATE TABLE u (a text, b text, n int CHECK (n <> 901))"
  run 2 pgcopy --jobs 2 --batch-rows 100 --resume-key j u input.tsv
  sql "DROP TABLE u; CREATE TABLE u (a text, b text, n int)"
  run 1 pgcopy --jobs 2 --batch-rows 100 --resume-key j u input.tsv
  assert_contains "$err" 'resume key "j" was loading with other options: table oid:'
  run 1 pgcopy -c b,a,n --jobs 2 --batch-rows 100 --resume-key j u input.tsv
  assert_contains "$err" 'columns: "a, b, n" then, "b, a, n" now'
  assert_eq 0 "$(table_count u)"
}

# Issue 20, item 3: a finished key checks that its inputs are the ones it
# loaded (size and modification time, else their fingerprint).
test_a_finished_resume_key_sees_a_replaced_input() {
  sql "CREATE TABLE t (id int CHECK (id <> 150), name text)"
  seq 1 100 | awk '{print $1 "\ta"}' >input.tsv
  run 0 pgcopy --batch-rows 10 --resume-key k t input.tsv
  # The same bytes, touched: still nothing to do.
  touch -d '2001-01-01' input.tsv
  run 0 pgcopy --batch-rows 10 --resume-key k t input.tsv
  assert_contains "$err" "finished already"
  assert_contains "$err" "nothing to do"
  # Other rows under the same name: refused.
  seq 101 200 | awk '{print $1 "\tb"}' >input.tsv
  run 1 pgcopy --batch-rows 10 --resume-key k t input.tsv
  assert_contains "$err" '"input.tsv" is not the input that resume key "k" was loading: its bytes differ'
  assert_contains "$err" 'this run loaded nothing; the 100 rows earlier runs of resume key "k" committed stay committed'
  assert_not_contains "$err" "rolled back"
  assert_not_contains "$err" "nothing to do"
  assert_eq "100|0" "$(sql "SELECT count(*), count(*) FILTER (WHERE name = 'b') FROM t")"
  # stdin is read and compared.
  seq 1 100 | awk '{print $1 "\ta"}' >first.tsv
  run 0 pgcopy -q --resume-key s t <first.tsv
  run 0 pgcopy --resume-key s t < <(cat first.tsv)
  assert_contains "$err" "nothing to do"
  run 1 pgcopy --resume-key s t < <(seq 1 100 | awk '{print $1 "\tc"}')
  assert_contains "$err" '"stdin" is not the input that resume key "s" was loading'
  assert_eq 200 "$(table_count t)"
  # An input that a stopped load had finished, replaced before the rerun.
  sql "TRUNCATE t"
  seq 1 100 | awk '{print $1 "\ta"}' >one.tsv
  seq 101 200 | awk '{print $1 "\ta"}' >two.tsv
  run 2 pgcopy --batch-rows 10 --resume-key m t one.tsv two.tsv
  assert_eq 140 "$(table_count t)"
  seq 1 100 | awk '{print $1 "\tz"}' >one.tsv
  seq 101 200 | awk '{ if ($1 == 150) print "0\ta"; else print $1 "\ta" }' >two.tsv
  run 1 pgcopy --batch-rows 10 --resume-key m t one.tsv two.tsv
  assert_contains "$err" '"one.tsv" is not the input that resume key "m" was loading: its bytes differ'
  seq 1 100 | awk '{print $1 "\ta"}' >one.tsv
  run 0 pgcopy --batch-rows 10 --resume-key m t one.tsv two.tsv
  assert_eq "200|0" "$(sql "SELECT count(*), count(*) FILTER (WHERE name <> 'a') FROM t")"
}

test_gzip_bzip2_and_xz_input_is_refused_by_name() {
  sql "CREATE TABLE t (id int, name text)"
  printf '1\tone\n2\ttwo\n' >rows.tsv
  gzip -k rows.tsv
  bzip2 -k rows.tsv
  xz -k rows.tsv
  run 1 pgcopy t rows.tsv.gz
  assert_contains "$err" "gzip input: decompress it first (zcat"
  run 1 pgcopy t <rows.tsv.bz2
  assert_contains "$err" "bzip2 input: decompress it first (bzcat"
  run 1 pgcopy --batch-rows 1 t rows.tsv.xz
  assert_contains "$err" "xz input: decompress it first (xzcat"
  assert_eq 0 "$(table_count t)"
  # A text row that starts with "BZh" is data.
  printf 'BZh91AY\n' | pgcopy -q -c name t
  assert_eq 1 "$(table_count t)"
}

test_a_csv_header_maps_columns_by_name() {
  sql "CREATE TABLE t (id int, name text, score int DEFAULT 7)"
  printf 'name,id\nx,1\ny,2\n' >reordered.csv
  run 0 pgcopy -F csv --header t reordered.csv
  assert_eq "$(printf '1|x|7\n2|y|7')" "$(sql 'SELECT * FROM t ORDER BY id')"
  run 0 pgcopy -F csv --header --batch-rows 1 t reordered.csv reordered.csv
  assert_eq 6 "$(table_count t)"
  assert_eq 0 "$(sql "SELECT count(*) FROM t WHERE name NOT IN ('x', 'y') OR score <> 7")"
  printf 'name,nme\nx,1\n' >unknown.csv
  run 1 pgcopy -F csv --header t unknown.csv
  assert_contains "$err" "unknown.csv:1: the header's field 2 names \"nme\", which is not a column of t"
  run 1 pgcopy -F csv --header --jobs 2 t unknown.csv
  assert_contains "$err" "names \"nme\""
  # Every input of a batched load names the same columns.
  printf 'id,name\n3,z\n' >other_order.csv
  run 1 pgcopy -F csv --header --batch-rows 1 t reordered.csv other_order.csv
  assert_contains "$err" "other_order.csv:1: the header does not match the columns"
}

test_header_names_with_escaped_characters_match_as_the_server_reads_them() {
  # Column names with a tab, a backslash, a comma, a quote (PostgreSQL's own
  # copy.sql tests HEADER MATCH with such names), headers as the server writes them.
  [ "$(server_major)" -ge 15 ] || skip "PostgreSQL $(server_major) has no HEADER in text COPY (it came in 15)"
  sql "CREATE TABLE h (id int, \"tab	here\" text, \"back\\slash\" text, \"a,\"\"q\" text)"
  sql "INSERT INTO h VALUES (1, 'x', 'y', 'z'), (2, NULL, 'b', 'c')"
  psql -XAtq -v ON_ERROR_STOP=1 -c "COPY h TO STDOUT (HEADER)" >h.tsv
  psql -XAtq -v ON_ERROR_STOP=1 -c "COPY h TO STDOUT (FORMAT csv, HEADER)" >h.csv
  head -n 1 h.tsv | grep -qF 'tab\there' || fail "the server's header escapes the tab: $(head -n 1 h.tsv)"
  local expected
  expected=$(sql 'SELECT * FROM h ORDER BY id')
  sql "TRUNCATE h"
  psql -Xq -v ON_ERROR_STOP=1 -c "\\copy h from 'h.tsv' (HEADER MATCH)" # the server's own reading
  assert_eq "$expected" "$(sql 'SELECT * FROM h ORDER BY id')" "psql's HEADER MATCH"
  local args
  for args in "h.tsv" "--batch-rows 1 h.tsv h.tsv" "-F csv h.csv" "-F csv --jobs 2 --batch-rows 1 h.csv h.csv"; do
    sql "TRUNCATE h"
    # shellcheck disable=SC2086 # the arguments are words
    run 0 pgcopy --header h $args
    assert_eq "$expected" "$(sql 'SELECT DISTINCT * FROM h ORDER BY id')" "pgcopy --header h $args"
  done
  # A header that names the columns in another order maps them by name.
  printf 'back\\\\slash\ttab\\there\n1\t2\n' >reordered.tsv
  sql "TRUNCATE h"
  run 0 pgcopy --header h reordered.tsv
  assert_eq "|2|1|" "$(sql 'SELECT * FROM h')"
  # With --escape, a CSV header undoes it as the server does.
  printf 'id,"a,\\"q"\n5,v\n' >escaped.csv
  sql "TRUNCATE h"
  run 0 pgcopy -F csv --escape '\' --header h escaped.csv
  assert_eq "5|||v" "$(sql 'SELECT * FROM h')"
}

# A binary stream: header, then the bytes given as a Python expression.
binary_with() {
  python3 -c "import struct, sys
h = b'PGCOPY\n\xff\r\n\0' + struct.pack('>ii', 0, 0)
sys.stdout.buffer.write(h + $1)"
}

test_broken_binary_framing_is_named_with_its_file_and_byte() {
  sql "CREATE TABLE t (id int, name text)"
  binary_with "struct.pack('>hi', 2, 0x7fffffff) + b'abc'" >huge.bin
  run 1 pgcopy t huge.bin
  assert_contains "$err" '"huge.bin": invalid field length 2147483647 at byte offset 21'
  binary_with "struct.pack('>hi', 2, -2) + b'abc'" >minus2.bin
  run 1 pgcopy t minus2.bin
  assert_contains "$err" '"minus2.bin": invalid field length -2 at byte offset 21'
  run 1 pgcopy --batch-rows 1 t minus2.bin
  assert_contains "$err" '"minus2.bin": invalid field length -2'
  binary_with "struct.pack('>hi', 3, 1) + b'a' + struct.pack('>i', 1) + b'b' + struct.pack('>h', -1)" >count.bin
  run 1 pgcopy t count.bin
  assert_contains "$err" "inside the length of field 3 of 3 of the row that starts at byte offset 19"
  binary_with "struct.pack('>hi', 2, 100) + b'abc'" >short.bin
  run 1 pgcopy t short.bin
  assert_contains "$err" "whose length (at byte offset 21) says 100 bytes, 97 more than are left"
  assert_eq 0 "$(table_count t)"
}

test_binary_input_is_detected_in_batches() {
  sql "CREATE TABLE t (id int, name text)"
  seq 1 100 | awk '{print $1 "\tn" $1}' >rows.tsv
  pgcopy -q t rows.tsv
  export_table t binary rows.bin
  sql "TRUNCATE t"
  run 0 pgcopy --batch-rows 10 t rows.bin
  run 0 pgcopy --jobs 2 --batch-rows 10 t <rows.bin
  assert_eq "200|100" "$(sql 'SELECT count(*), count(DISTINCT id) FROM t')"
}

test_messages_name_the_place_and_the_limit() {
  sql "CREATE TABLE t (id int, name text)"
  printf '1,a\n2,b\n3,c\n4,"d\n' >open_quote.csv
  run 1 pgcopy -F csv t open_quote.csv
  assert_contains "$err" "open_quote.csv:4: unterminated CSV quoted field"
  run 1 pgcopy -F csv --batch-rows 2 t open_quote.csv
  assert_contains "$err" "open_quote.csv:4: unterminated CSV quoted field"
  printf '1\ta\n' >rows.tsv
  run 1 pgcopy --reject-file /dev/full t rows.tsv
  assert_contains "$err" '--reject-file "/dev/full" is not a regular file'
  [ ! -e /dev/full.log ] || fail "/dev/full.log was created"
  run 1 pgcopy --max-rejects '' --reject-file r t rows.tsv
  assert_contains "$err" 'invalid --max-rejects ""'
  (printf 'x\tbad\n'; seq 1 99 | awk '{print $1 "\tok"}') >some_bad.tsv
  run 3 pgcopy --max-rejects 0.05% --reject-file r --batch-rows 10 t some_bad.tsv
  assert_contains "$err" "more than --max-rejects 0.05%"
}

# A \. whose line end is not the input's first line's: the server refuses
# the line (end-of-copy marker does not match previous newline style), so
# pgcopy does too; with a reject file the line is rejected and the rows
# after it load. The same line ends throughout load as usual.
test_a_marker_with_another_line_end_is_refused_as_the_server_does() {
  sql "CREATE TABLE t (a text, b text)"
  printf 'x\ty\na\tb\\.\r\n' >lf_then_crlf.tsv
  printf 'x\ty\r\na\tb\\.\n' >crlf_then_lf.tsv
  printf 'x\ty\na\\.\r\nq\tr\n' >alone.tsv
  local f
  for f in lf_then_crlf.tsv crlf_then_lf.tsv alone.tsv; do
    psql -Xq -c "\\copy t from $f" 2>psql.err && fail "psql loaded $f"
    assert_contains "$(cat psql.err)" "end-of-copy marker does not match previous newline style"
    run 1 pgcopy t "$f"
    assert_contains "$err" "$f:2: end-of-copy marker does not match previous newline style"
    run 1 pgcopy --batch-rows 1 t "$f"
    assert_eq 1 "$(table_count t)" "rows of $f before the line, in batches"
    sql "TRUNCATE t"
    run 3 pgcopy --reject-file "$f.rej" t "$f"
    assert_contains "$(cat "$f.rej.log")" "end-of-copy marker does not match previous newline style"
    assert_eq 0 "$(sql "SELECT count(*) FROM t WHERE a IN ('a', 'a\\.')")" "the refused line of $f"
    sql "TRUNCATE t"
  done
  assert_eq "$(printf 'a\\.\r')" "$(head -c 4 alone.tsv.rej)" "the rejected line, as read"
  printf 'x\ty\r\na\tb\\.\r\n' >crlf.tsv
  if [ "$(server_major)" -ge 18 ]; then # a \. after data: refused on 18 whatever its line end
    run 1 pgcopy t crlf.tsv
    assert_contains "$err" "crlf.tsv:2: end-of-copy marker is not alone on its line"
    return
  fi
  run 0 pgcopy t crlf.tsv
  assert_eq "a|b,x|y" "$(sql "SELECT string_agg(a || '|' || b, ',' ORDER BY a) FROM t")"
}

# The server itself is the oracle of how it reads a marker (psql's \copy
# stops at a \. line on its own, whatever the server): server_copy FILE
# OPTIONS loads FILE with the server's COPY FROM into t_server, a fresh copy
# of t, and says whether the server took it (0) or refused it (1, its
# message in ./server.err).
server_copy() {
  sql "DROP TABLE IF EXISTS t_server; CREATE TABLE t_server (LIKE t)"
  psql -XAtq -v ON_ERROR_STOP=1 -c "COPY t_server FROM '$PWD/$1' $2" 2>server.err
}

# rows_of TABLE: its rows, sorted, as one string.
rows_of() { sql "SELECT coalesce(string_agg(t::text, ',' ORDER BY t::text), '') FROM $1 t"; }

# The pgcopy modes that read markers (the reject file only where no row is bad).
marker_modes=("" "--batch-rows 1" "--jobs 2 --batch-rows 1" "--fast" "--reject-file r")

# PostgreSQL 18 reads a CSV line of only \. as data (a row whose value is
# \.); 14-17 end the data there. pgcopy reads it as its server does.
test_a_csv_marker_line_is_read_as_the_server_of_each_version_reads_it() {
  sql "CREATE TABLE t (v text)"
  printf 'a\nb\n\\.\n' >ends.csv
  printf 'a\n\\.\nb\n' >mid.csv
  local mode
  server_copy ends.csv "(FORMAT csv)" || fail "the server refused ends.csv: $(cat server.err)"
  for mode in "${marker_modes[@]}"; do
    sql "TRUNCATE t"
    # shellcheck disable=SC2086 # the mode is words
    run 0 pgcopy -F csv $mode t ends.csv
    assert_eq "$(rows_of t_server)" "$(rows_of t)" "rows of ends.csv with pgcopy $mode"
  done
  server_copy mid.csv "(FORMAT csv)" || fail "the server refused mid.csv: $(cat server.err)"
  if [ "$(server_major)" -ge 18 ]; then
    assert_eq 3 "$(table_count t_server)" "the server's rows of mid.csv"
    for mode in "${marker_modes[@]}"; do
      sql "TRUNCATE t"
      # shellcheck disable=SC2086
      run 0 pgcopy -F csv $mode t mid.csv
      assert_eq "$(rows_of t_server)" "$(rows_of t)" "rows of mid.csv with pgcopy $mode"
    done
  else
    assert_eq 1 "$(table_count t_server)" "the server's rows of mid.csv: it stops at the marker"
    sql "TRUNCATE t"
    run 1 pgcopy -F csv t mid.csv
    assert_contains "$err" "mid.csv:2: end-of-data marker \\. before the end of the input"
    assert_contains "$err" "the server stops reading at a \\. line"
    run 3 pgcopy -F csv --reject-file r t mid.csv
    assert_eq '\.' "$(cat r)" "the rejected marker"
    assert_contains "$(cat r.log)" "the server would stop reading there"
    assert_eq '(a),(b)' "$(rows_of t)"
  fi
}

# PostgreSQL 18 refuses a text row with data before its \. ("end-of-copy
# marker is not alone on its line"); 14-17 load the data and end there.
test_a_text_row_ending_in_a_marker_is_read_as_the_server_of_each_version_reads_it() {
  sql "CREATE TABLE t (id int, name text)"
  printf '1\ta\n2\tb\\.\n' >last.tsv
  printf '1\ta\n2\tb\\.\n3\tc\n' >after.tsv
  local mode
  if [ "$(server_major)" -lt 18 ]; then
    server_copy last.tsv "" || fail "the server refused last.tsv: $(cat server.err)"
    assert_eq '(1,a),(2,b)' "$(rows_of t_server)" "the server's rows of last.tsv"
    for mode in "${marker_modes[@]}" "--send-binary"; do
      sql "TRUNCATE t"
      # shellcheck disable=SC2086
      run 0 pgcopy $mode t last.tsv
      assert_eq "$(rows_of t_server)" "$(rows_of t)" "rows of last.tsv with pgcopy $mode"
    done
    run 1 pgcopy t after.tsv
    assert_contains "$err" "after.tsv:2: end-of-data marker \\. before the end of the input"
    return
  fi
  local f
  for f in last.tsv after.tsv; do
    server_copy "$f" "" && fail "the server loaded $f"
    assert_contains "$(cat server.err)" "end-of-copy marker is not alone on its line"
    assert_contains "$(cat server.err)" "line 2"
    for mode in "" "--batch-rows 1" "--jobs 2 --batch-rows 1" "--fast" "--send-binary"; do
      sql "TRUNCATE t"
      # shellcheck disable=SC2086
      run 1 pgcopy $mode t "$f"
      assert_contains "$err" "$f:2: end-of-copy marker is not alone on its line"
      [ "$mode" != "--batch-rows 1" ] || assert_eq 1 "$(table_count t)" "rows of $f before the refused line, in batches"
    done
    sql "TRUNCATE t"
    run 3 pgcopy --reject-file r t "$f"
    assert_eq "$(printf '2\tb\\.')" "$(cat r)" "the rejected line of $f"
    assert_contains "$(cat r.log)" "$f	2	"
    assert_contains "$(cat r.log)" "end-of-copy marker is not alone on its line"
  done
  assert_eq '(1,a),(3,c)' "$(rows_of t)" "the rows of after.tsv around the rejected line"
  # In a script stream too: the server refuses the block.
  printf 'COPY t (id, name) FROM stdin;\n1\tone\n2\ttwo\\.\n\\.\n' >s.sql
  run 1 pgcopy t s.sql
  assert_contains "$err" "s.sql:3: end-of-copy marker is not alone on its line"
}
