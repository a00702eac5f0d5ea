# pgrec writes what an ORM stores where the meaning is certain: numeric NaN
# and infinities, JSON's null when asked, an unflushed object's "id": null,
# an unset relationship's null children.

test_numeric_nan_and_infinities_load_as_the_server_reads_them() {
  sql "CREATE TABLE n (k int, a numeric, b numeric(10,2))"
  printf '%s\n' '{"k":1,"a":"NaN","b":"NaN"}' '{"k":2,"a":"Infinity","b":1.5}' '{"k":3,"a":"-Infinity","b":null}' >n.jsonl
  local expected=$'1|NaN|NaN\n2|Infinity|1.50\n3|-Infinity|'
  run 0 bash -c "pgrec n n.jsonl | pgcopy n"
  assert_eq "$expected" "$(sql "SELECT k, a, b FROM n ORDER BY k")" "text"
  sql "TRUNCATE n"
  run 0 bash -c "pgrec -F binary n n.jsonl | pgcopy -F binary -c k,a,b n"
  assert_eq "$expected" "$(sql "SELECT k, a, b FROM n ORDER BY k")" "binary"
  # An infinity does not fit numeric(p,s), as the server says too.
  printf '%s\n' '{"k":4,"b":"Infinity"}' >inf.jsonl
  run 1 pgrec n inf.jsonl
  assert_contains "$err" "inf.jsonl:1"
  assert_contains "$err" "does not fit numeric(10,2)"
}

test_json_null_is_sql_null_unless_asked_for_the_json_value() {
  sql "CREATE TABLE j (k int, a json, b jsonb, c jsonb[])"
  printf '%s\n' '{"k":1,"a":null,"b":null,"c":[null]}' '{"k":2,"a":{"x":null},"b":[1,null]}' >j.jsonl
  run 0 bash -c "pgrec j j.jsonl | pgcopy j"
  assert_eq $'1|t|t|{NULL}\n2|f|f|' "$(sql "SELECT k, a IS NULL, b IS NULL, c FROM j ORDER BY k")"
  sql "TRUNCATE j"
  # As SQLAlchemy stores None in a JSON column (none_as_null=False).
  run 0 bash -c "pgrec --json-null value j j.jsonl | pgcopy j"
  assert_eq $'1|null|null|{NULL}\n2|{"x":null}|[1, null]|' "$(sql "SELECT k, a, b, c FROM j ORDER BY k")"
  assert_eq "null" "$(sql "SELECT jsonb_typeof(b) FROM j WHERE k = 1")"
  run 1 pgrec --json-null maybe j j.jsonl
  assert_contains "$err" 'invalid --json-null "maybe" (sql or value)'
}

test_an_unflushed_objects_null_id_is_left_to_the_server() {
  sql "CREATE TABLE p (id serial PRIMARY KEY, t text)"
  printf '%s\n' '{"id":null,"t":"a"}' '{"t":"b","id":null}' >p.jsonl
  run 0 bash -c "pgrec p p.jsonl | pgcopy p"
  assert_eq $'1|a\n2|b' "$(sql "SELECT id, t FROM p ORDER BY id")"
  printf '%s\n' '{"id":7,"t":"c"}' >seven.jsonl
  run 1 pgrec p seven.jsonl
  assert_contains "$err" "pass --with-ids to load the records' own values"
}

test_null_children_are_no_children() {
  sql "CREATE TABLE par (id serial PRIMARY KEY, name text)"
  sql "CREATE TABLE kid (id serial PRIMARY KEY, par_id int NOT NULL REFERENCES par, v text)"
  printf '%s\n' '{"name":"a","kids":null}' '{"name":"b","kids":[{"v":"x"}]}' '{"name":"c","kids":[]}' >t.jsonl
  run 0 bash -c "pgrec --child kids=kid.par_id par t.jsonl | pgcopy"
  assert_eq 3 "$(table_count par)"
  assert_eq "b|x" "$(sql "SELECT par.name, kid.v FROM kid JOIN par ON par.id = kid.par_id")"
  printf '%s\n' '{"name":"d","kids":{"v":"y"}}' >bad.jsonl
  run 1 pgrec --child kids=kid.par_id par bad.jsonl
  assert_contains "$err" "the children must be a JSON array"
}
