# pgrec: JSON lines to COPY rows, exact for every type, hostile strings
# included; every bad line is named by file, line, key and type.

typed_table() {
  psql -Xq -v ON_ERROR_STOP=1 <<'SQL'
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE typed (
  id serial PRIMARY KEY, i2 int2, i4 int4 NOT NULL UNIQUE, i8 int8, n numeric(10,3), nu numeric, f4 real,
  f8 float8, b bool, t text, vc varchar(20), ch char(7), by bytea, d date, tm time, ts timestamp,
  tstz timestamptz, iv interval, u uuid, j json, jb jsonb, m mood, ia int[], ta text[], va varchar(5)[]);
SQL
}

test_binary_equals_the_servers_for_every_type_from_row_to_json() {
  typed_table
  local cols
  cols=$(pggen -q --list-columns typed)
  pggen -q -n 5000 'nu=numeric(-1000,1000,5)|null(0.1)' 'iv=interval(400)' typed | pgcopy -q -c "$cols" typed
  sql "UPDATE typed SET iv = iv + interval '3 mons' WHERE i4 % 7 = 0"
  sql "UPDATE typed SET f8 = 'NaN' WHERE i4 = 3"
  sql "UPDATE typed SET f4 = '-Infinity' WHERE i4 = 4"
  psql -XAtq -c "SELECT row_to_json(r) FROM (SELECT $cols FROM typed ORDER BY i4) r" >records.jsonl
  psql -XAtq -c "COPY (SELECT $cols FROM typed ORDER BY i4) TO STDOUT (FORMAT binary)" >server.bin
  run 0 pgrec -F binary -o records.bin typed records.jsonl
  assert_contains "$err" "leaving id to the server"
  python3 "$PGPIPE_ROOT/tests/copy_binary.py" compare records.bin server.bin --json-fields "$cols" j,jb
  # And through text (a script stream naming its columns), loaded again:
  # the same rows.
  sql "TRUNCATE typed"
  pgrec -q typed records.jsonl | pgcopy -q typed
  psql -XAtq -c "COPY (SELECT $cols FROM typed ORDER BY i4) TO STDOUT (FORMAT binary)" >again.bin
  python3 "$PGPIPE_ROOT/tests/copy_binary.py" compare again.bin server.bin --json-fields "$cols" j,jb
}

test_hostile_records_round_trip_in_meaning() {
  sql "CREATE TABLE h (id int8 PRIMARY KEY, s text, n numeric, j jsonb, at timestamptz, ok bool, tags text[], f float8)"
  python3 - <<'PY'
import json, random
random.seed(5)
pieces = ["\t", "\n", "\r", "\\", "\\N", "\"", "'", ",", "😀", "ü", "☃", "\\x41", "a", " ", "{}", "NULL", "\u2028"]
with open("in.jsonl", "w") as out:
    for i in range(1, 100001):
        s = "".join(random.choice(pieces) for _ in range(random.randint(0, 12)))
        if i % 25000 == 0:
            s = "x" * (1 << 20)            # 1 MB values
        if i % 97 == 0:
            s = None
        rec = {"id": i, "s": s,
               "n": f"{random.randint(-10**30, 10**30)}.{random.randint(0, 10**8):08d}",
               "j": {"k": s, "list": [i, None, True, {"deep": "\t\\"}]},
               "at": f"2024-0{1 + i % 9}-1{i % 10}T0{i % 10}:30:00.{i % 1000000:06d}+0{i % 10}:00",
               "ok": i % 2 == 0, "tags": [s, None, "t\tag"] if i % 3 else [],
               "f": random.random() * 10 ** random.randint(-5, 5)}
        out.write(json.dumps(rec, ensure_ascii=bool(i % 2)) + "\n")
PY
  for fmt in text binary; do
    sql "TRUNCATE h"
    run 0 sh -c "pgrec -F $fmt h in.jsonl | pgcopy -F $fmt h"
    psql -XAtq -c "SELECT row_to_json(h) FROM h ORDER BY id" >out.jsonl
    python3 - <<'PY'
import json
from datetime import datetime
from decimal import Decimal
def norm(r):
    r = dict(r)
    r["n"] = Decimal(str(r["n"]))
    r["at"] = datetime.fromisoformat(r["at"]).timestamp()
    return r
a = [norm(json.loads(l)) for l in open("in.jsonl")]
b = [norm(json.loads(l, parse_float=Decimal)) for l in open("out.jsonl")]
assert len(a) == len(b) == 100000, (len(a), len(b))
for x, y in zip(a, b):
    y["f"] = float(y["f"])
    assert x == y, (x, y)
PY
  done
}

test_bad_lines_are_named_and_not_written() {
  sql "CREATE TABLE t (i4 int4, i2 int2, at timestamp, name varchar(5))"
  cat >bad.jsonl <<'EOF2'
{"i4": 1, "i2": 2, "at": "2024-01-01T00:00:00", "name": "ok"}
{"i4": "abc", "i2": 2}
{"i2": 40000}
{"at": "2024-13-01"}
{"name": "too long"}
[1, 2]
{"i4": 5,, "i2": 6}
{"i4": 6} trailing
{"nope": 1}
EOF2
  run 1 pgrec t bad.jsonl
  assert_eq "" "$out" "nothing: the row before the bad line waits in its block, which is never ended"
  assert_contains "$err" 'bad.jsonl:2: key "i4": "abc" is not a valid integer (column i4, type integer)'
  run 3 pgrec --reject-file rej.jsonl t bad.jsonl
  assert_eq "$(printf 'COPY t (i4, i2, at, name) FROM stdin;\n1\t2\t2024-01-01 00:00:00\tok\n\\.')" "$out"
  local log
  log=$(cat rej.jsonl.log)
  # pgcopy's log format: input, line, byte offset, SQLSTATE (none: no
  # server judged the line), message, detail.
  assert_eq $'input\tline\tbyte_offset\tsqlstate\tmessage\tdetail' "$(head -n 1 rej.jsonl.log)" "the log's header"
  assert_eq 9 "$(wc -l <rej.jsonl.log)" "the header and a line per reject"
  assert_contains "$log" $'bad.jsonl\t2\t62\t\tkey "i4": "abc" is not a valid integer (column i4, type integer)\t\n'
  assert_contains "$log" $'bad.jsonl\t3\t85\t\tkey "i2": 40000 is out of range (-32768 to 32767) (column i2, type smallint)'
  assert_contains "$log" $'bad.jsonl\t4\t99\t\tkey "at": "2024-13-01" is not an ISO 8601 timestamp'
  assert_contains "$log" $'bad.jsonl\t5\t120\t\tkey "name": value too long (8 characters, at most 5) (column name, type character varying(5))'
  assert_contains "$log" $'bad.jsonl\t6\t141\t\tnot a JSON object'
  assert_contains "$log" $'bad.jsonl\t7\t148\t\tinvalid JSON at byte column'
  assert_contains "$log" $'bad.jsonl\t8\t168\t\tmore after the object, at byte column 11'
  assert_contains "$log" $'bad.jsonl\t9\t187\t\tkey "nope": no column of t takes this key'
  assert_eq 8 "$(wc -l <rej.jsonl)" "raw lines in the reject file"
  assert_eq "$(sed -n 2p bad.jsonl)" "$(head -n 1 rej.jsonl)"
}

test_the_reject_log_is_pgcopys() {
  # Byte offsets count what was read (a CR too, and after decompression);
  # a tab in a reason becomes a space, so a reject is one log line.
  printf '{"a": 1}\r\n{"a": "x\\ty"}\r\n{"a": 2}\n{"a": true}\n' | zstd -q >in.jsonl.zst
  run 3 pgrec --columns a:int --reject-file rej t in.jsonl.zst
  assert_eq "$(printf 'COPY t (a) FROM stdin;\n1\n2\n\\.')" "$out"
  assert_eq $'input\tline\tbyte_offset\tsqlstate\tmessage\tdetail
in.jsonl.zst\t2\t10\t\tkey "a": "x y" is not a valid integer (column a, type integer)\t
in.jsonl.zst\t4\t34\t\tkey "a": "true" is not a valid integer (column a, type integer)\t' "$(cat rej.log)"
  assert_eq $'{"a": "x\\ty"}\n{"a": true}' "$(cat rej)" "the lines as read, without their CR"
  # The log goes beside FILE and both are cut back: a device is refused.
  run 1 pgrec --columns a:int --reject-file /dev/null t in.jsonl.zst
  assert_contains "$err" 'reject-file "/dev/null" is not a regular file'
}

test_map_missing_unknown_and_offline_columns() {
  printf '{"ID": 1, "title": "a", "junk": 0}\n{"ID": 2}\n' >r.jsonl
  # Offline the defaults are unknown: a script names only the keys given.
  run 0 pgrec --columns 'id:bigint,name:text,price:numeric(8,2)' --map ID=id,title=name --ignore-unknown posts r.jsonl
  assert_eq "$(printf 'COPY posts (id, name) FROM stdin;\n1\ta\n\\.\nCOPY posts (id) FROM stdin;\n2\n\\.')" "$out"
  run 0 pgrec --columns 'id:bigint,name:text,price:numeric(8,2)' --map ID=id,title=name --ignore-unknown \
    --missing null posts r.jsonl
  assert_eq "$(printf 'COPY posts (id, name, price) FROM stdin;\n1\ta\t\\N\n2\t\\N\t\\N\n\\.')" "$out"
  run 3 pgrec --columns 'id:bigint,name:text' --map ID=id,title=name --ignore-unknown --missing error \
    --reject-file m posts r.jsonl
  assert_contains "$(cat m.log)" 'key "title" is missing (--missing error)' # the key, as --map names it
  run 1 pgrec --columns 'id:bigint' posts r.jsonl
  assert_contains "$err" 'r.jsonl:1: key "ID": no column of posts takes this key'
  run 0 pgrec --columns 'id:bigint,price:numeric(12,2)' -F csv --ignore-unknown --map ID=id posts r.jsonl
  assert_eq "$(printf '1,\n2,')" "$out" "offline CSV: a missing key is NULL"
  run 1 pgrec --columns 'id:money' posts r.jsonl
  assert_contains "$err" 'unknown type "money"'
  sql "CREATE TABLE withid (id serial PRIMARY KEY, v text)"
  printf '{"id": 7, "v": "x"}\n' >ids.jsonl
  run 1 pgrec withid ids.jsonl
  assert_contains "$err" "which the server fills"
  run 0 sh -c 'pgrec --with-ids withid ids.jsonl | pgcopy withid'
  assert_eq 7 "$(sql 'SELECT id FROM withid')"
}

test_a_failing_pgrec_in_binary_commits_nothing() {
  sql "CREATE TABLE t (a int, j jsonb[], b bool)"
  printf '%s\n' '{"a": 1, "j": [{"x": 1}, [2]], "b": true}' '{"a": 2, "b": txyz}' '{"a": nope}' >in.jsonl
  run 1 sh -c 'pgrec -F binary t in.jsonl | pgcopy -F binary t'
  assert_contains "$err" 'in.jsonl:2: key "b": invalid JSON value "txyz"'
  assert_contains "$err" "binary COPY data ends at byte offset"
  assert_contains "$err" "without its trailer"
  assert_eq 0 "$(table_count t)" "rows committed"
  run 3 bash -o pipefail -c 'pgrec --reject-file r -F binary t in.jsonl | pgcopy -F binary t'
  assert_eq '1|{"{\"x\": 1}",[2]}|t' "$(sql 'SELECT * FROM t')" "a jsonb[] of an object and an array"
  assert_contains "$(cat r.log)" 'key "a": invalid JSON value "nope"'
}

# The oracle is the server: the same literals cast by SQL (TimeZone UTC,
# which pgrec assumes for a timestamptz without an offset) and loaded from
# pgrec's text, CSV and binary give the same table.
test_dates_and_timestamps_before_year_1_after_9999_and_infinite_load_as_the_server_reads_them() {
  local rows=(
    # date | timestamp | timestamptz: AD in the input, BC in UTC, and the ends of each range
    '0001-01-01|0001-01-01T00:00:00|0001-01-01T00:00:00+05:00'
    '0044-03-15 BC|0044-03-15 12:00:00 BC|0044-03-15 12:00:00+00 BC'
    '4714-11-24 BC|4714-11-24 00:00:00 BC|4714-11-23 23:00:00-01 BC'
    '9999-12-31|9999-12-31T23:59:59.999999|9999-12-31T23:59:59.999999-05:00'
    '10000-01-01|12345-06-07T01:02:03|294276-12-31T23:59:59.999999Z'
    '5874897-12-31|294276-12-31 23:59:59.999999|0001-01-01 04:59:59+05'
    'infinity|-infinity|infinity'
    '-infinity|infinity|-infinity'
    '2000-02-29|1999-12-31T23:59:59.5|2000-01-01T00:00:00+14:00'
  )
  sql "CREATE TABLE expected (id int, d date, ts timestamp, tz timestamptz, tzs timestamptz[])"
  local i=0 d ts tz
  : >in.jsonl
  for row in "${rows[@]}"; do
    i=$((i + 1))
    IFS='|' read -r d ts tz <<<"$row"
    printf '{"id": %d, "d": "%s", "ts": "%s", "tz": "%s", "tzs": ["%s", "%s"]}\n' "$i" "$d" "$ts" "$tz" "$tz" "$ts" >>in.jsonl
    PGTZ=UTC sql "INSERT INTO expected VALUES ($i, '$d', '$ts', '$tz', ARRAY['$tz', '$ts']::timestamptz[])"
  done
  local want
  want=$(PGTZ=UTC sql "SELECT * FROM expected ORDER BY id")
  assert_contains "$want" "1|0001-01-01|0001-01-01 00:00:00|0001-12-31 19:00:00+00 BC|" "the server's own reading"
  for fmt in text csv binary; do
    sql "CREATE TABLE got_$fmt (LIKE expected)"
    run 0 bash -o pipefail -c "pgrec -F $fmt got_$fmt in.jsonl | pgcopy -F $fmt got_$fmt"
    assert_eq "$want" "$(PGTZ=UTC sql "SELECT * FROM got_$fmt ORDER BY id")" "-F $fmt loaded"
  done
  # Just past each end: the server refuses, and so does pgrec (a bad line).
  local bad=('date|4714-11-23 BC' 'date|5874898-01-01' 'date|0000-01-01' 'timestamp|294277-01-01T00:00:00'
    'timestamptz|294276-12-31T23:59:59-01:00' 'timestamptz|4714-11-24 00:00:00+01 BC')
  for pair in "${bad[@]}"; do
    local type=${pair%%|*} literal=${pair#*|}
    if PGTZ=UTC sql "SELECT '$literal'::$type" >/dev/null 2>&1; then
      fail "the server reads '$literal'::$type"
    fi
    printf '{"v": "%s"}\n' "$literal" >bad.jsonl
    run 1 pgrec --columns "v:$type" t bad.jsonl
    assert_contains "$err" "bad.jsonl:1: key \"v\": \"$literal\" is "
  done
}

# RFC 8259 numbers only; a bad one is a bad line, whatever its column.
test_numbers_that_are_not_json_are_bad_lines_and_edge_numbers_load_exactly() {
  sql "CREATE TABLE n (id int, t text, f float8, n numeric, j json)"
  local bad=(-Infinity -foo - 01 1. -01 1e 1e+ 00 1.5.5)
  : >bad.jsonl
  for b in "${bad[@]}"; do
    for col in t f n j; do
      printf '{"id": 1, "%s": %s}\n' "$col" "$b" >>bad.jsonl
    done
    printf '{"id": 1, "j": {"a": [1, %s]}}\n' "$b" >>bad.jsonl
  done
  run 3 pgrec --reject-file rej n bad.jsonl
  assert_eq "" "$out" "no row written"
  assert_eq "$((${#bad[@]} * 5))" "$(wc -l <rej)" "every line rejected"
  assert_contains "$(cat rej.log)" $'bad.jsonl\t1\t0\t\tkey "t": invalid JSON number "-Infinity" (column t, type text)'
  assert_contains "$(cat rej.log)" 'key "f": invalid JSON number "01" (column f, type double precision)'
  assert_contains "$(cat rej.log)" 'key "n": invalid JSON number "1." (column n, type numeric)'
  assert_contains "$(cat rej.log)" 'key "j": invalid JSON number "-" (column j, type json)'
  run 1 pgrec n bad.jsonl
  assert_contains "$err" 'bad.jsonl:1: key "t": invalid JSON number "-Infinity" (column t, type text)'
  # Valid edge numbers: what the server makes of the same text.
  local good=(-0 0.0 1E+2 1e400 -1.5e-3 123456789012345678901234567890 0 -0.0e+00)
  sql "CREATE TABLE want (LIKE n)"
  : >good.jsonl
  local i=0
  for g in "${good[@]}"; do
    i=$((i + 1))
    local f=$g
    [ "$g" = 1e400 ] && f=null # beyond double precision: the server refuses it too
    printf '{"id": %d, "t": %s, "f": %s, "n": %s, "j": [%s]}\n' "$i" "$g" "$f" "$g" "$g" >>good.jsonl
    sql "INSERT INTO want VALUES ($i, '$g', $([ "$f" = null ] && echo NULL || echo "'$f'"), '$g', '[$g]')"
  done
  for fmt in text csv binary; do
    sql "TRUNCATE n"
    run 0 bash -o pipefail -c "pgrec -F $fmt n good.jsonl | pgcopy -F $fmt n"
    assert_eq "$(sql 'SELECT * FROM want ORDER BY id')" "$(sql 'SELECT * FROM n ORDER BY id')" "-F $fmt loaded"
  done
  run 1 pgrec --columns f:float8 t <<<'{"f": 1e400}'
  assert_contains "$err" '"1e400" is not a valid number (out of range for double precision)'
}
