# pgrec --child: trees of related tables as a script stream, ids
# pre-allocated from the parents' sequences; pgcopy runs scripts in one
# transaction, with their COPY lines checked, never run as given.

seed_tables() {
  psql -Xq -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE sequence (id bigserial PRIMARY KEY, name text NOT NULL, residues text);
CREATE TABLE annotation (id bigserial PRIMARY KEY, sequence_id bigint NOT NULL REFERENCES sequence,
                         label text NOT NULL, pos int CHECK (pos >= 0));
CREATE TABLE note (id serial PRIMARY KEY, annotation_id bigint NOT NULL REFERENCES annotation, body text);
SQL
}

# records N M: N sequences with M annotations each (every third with a note).
records() {
  python3 - "$1" "$2" <<'PY'
import json, sys
n, m = int(sys.argv[1]), int(sys.argv[2])
for i in range(n):
    anns = [{"label": f"s{i}a{k}\t\"x\"", "pos": k,
             **({"notes": [{"body": f"note {i}.{k}"}]} if k % 3 == 0 else {})} for k in range(m)]
    print(json.dumps({"name": f"seq{i}", "residues": "ACGT" * (i % 50), "annotations": anns}))
PY
}

test_the_seed_case_loads_in_one_transaction_with_few_statements() {
  seed_tables
  local children=(--child annotations=annotation.sequence_id --child annotations.notes=note.annotation_id)
  records 1000 6 >six.jsonl
  records 1000 100 >hundred.jsonl
  sql "SELECT pg_stat_statements_reset()" >/dev/null
  run 0 sh -c "pgrec ${children[*]} --block 1000 sequence six.jsonl | pgcopy --script"
  assert_contains "$err" "loaded 9,000 rows"
  run 0 sh -c "pgrec ${children[*]} --block 1000 sequence hundred.jsonl | pgcopy --script"
  assert_eq "2000|106000|36000" "$(sql 'SELECT (SELECT count(*) FROM sequence), (SELECT count(*) FROM annotation),
                                          (SELECT count(*) FROM note)')"
  # Every annotation belongs to the sequence its record nested it in.
  assert_eq 0 "$(sql "SELECT count(*) FROM annotation a JOIN sequence s ON s.id = a.sequence_id
                      WHERE a.label NOT LIKE replace(s.name, 'seq', 's') || 'a%'")"
  # The server saw one COPY per table per block (one block per file here).
  assert_eq "2|2|2" "$(sql "SELECT sum(calls) FILTER (WHERE query LIKE 'COPY \"sequence\"%'),
                              sum(calls) FILTER (WHERE query LIKE 'COPY \"annotation\"%'),
                              sum(calls) FILTER (WHERE query LIKE 'COPY \"note\"%')
                         FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database
                                                               WHERE datname = current_database())")"
}

test_psql_runs_the_same_script() {
  seed_tables
  records 50 3 | pgrec -q --child annotations=annotation.sequence_id --ignore-unknown --block 20 sequence >script.sql
  run 0 psql -X -q -1 -v ON_ERROR_STOP=1 -f script.sql
  assert_eq "50|150" "$(sql 'SELECT (SELECT count(*) FROM sequence), (SELECT count(*) FROM annotation)')"
}

test_offline_ids_and_a_bad_child_rejects_its_whole_record() {
  seed_tables
  printf '%s\n' '{"name": "a", "annotations": [{"label": "x", "pos": 1}]}' \
    '{"name": "b", "annotations": [{"label": "y", "pos": "not a number"}]}' \
    '{"name": "c", "annotations": []}' >in.jsonl
  run 3 pgrec --child annotations=annotation.sequence_id --id-start 100 --reject-file rej sequence in.jsonl
  assert_eq "$(printf 'COPY sequence (id, name, residues) FROM stdin;\n100\ta\t\\N\n102\tc\t\\N\n\\.\nCOPY annotation (sequence_id, label, pos) FROM stdin;\n100\tx\t1\n\\.')" "$out"
  assert_contains "$(cat rej.log)" 'key "pos": "not a number" is not a valid integer (annotation.pos, type integer)'
  assert_eq "$(sed -n 2p in.jsonl)" "$(cat rej)"
}

test_script_lines_are_checked_not_executed() {
  sql "CREATE TABLE victim (a int)"
  printf 'COPY victim FROM stdin; DROP TABLE victim;\n1\n\\.\n' >evil.sql
  run 1 pgcopy --script evil.sql
  assert_contains "$err" 'evil.sql:1: expected "COPY table [(columns)] FROM stdin;"'
  printf 'COPY victim (a) FROM stdin;\n1\n2\n' >cut.sql
  run 1 pgcopy --script cut.sql
  assert_contains "$err" "the script ends inside the COPY block that starts at line 1"
  printf 'COPY victim (a) FROM stdin;\n1\n\\.\nCOPY victim (a) FROM stdin;\n2\nx\n\\.\n' >bad.sql
  run 2 pgcopy victim bad.sql
  assert_contains "$err" "bad.sql:6: invalid input syntax for type integer"
  assert_eq 0 "$(table_count victim)" "one transaction: the first block is rolled back too"
  run 0 pgcopy victim <(printf 'COPY "victim" ("a") FROM stdin;\n7\n\\.\n\nCOPY public.victim FROM STDIN;\n8\n\\.\n')
  assert_eq "7 8" "$(sql "SELECT string_agg(a::text, ' ' ORDER BY a) FROM victim")"
}

test_children_missing_keys_get_their_defaults() {
  psql -Xq -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE invoice (id bigserial PRIMARY KEY, customer text NOT NULL, status text NOT NULL DEFAULT 'open');
CREATE TABLE line (id serial PRIMARY KEY, invoice_id bigint NOT NULL REFERENCES invoice, item text NOT NULL,
                   qty int NOT NULL DEFAULT 1, note text DEFAULT 'none');
SQL
  # Record c has a good child in one shape and a bad one in another: the
  # whole record is taken back, from every shape.
  printf '%s\n' \
    '{"customer": "a", "lines": [{"item": "x"}, {"item": "y", "qty": 3}, {"item": "z", "note": null}]}' \
    '{"customer": "b", "status": "paid", "lines": [{"item": "w", "qty": 2, "note": "gift"}, {"item": "v"}]}' \
    '{"customer": "c", "lines": [{"item": "u", "qty": 4}, {"item": "t", "qty": "many"}]}' \
    '{"customer": "d", "lines": [{"item": "s"}]}' >in.jsonl
  run 3 bash -o pipefail -c 'pgrec --child lines=line.invoice_id --reject-file rej invoice in.jsonl | pgcopy --script'
  assert_contains "$(cat rej.log)" $'in.jsonl\t3\t201\t\tkey "qty": "many" is not a valid integer (line.qty, type integer)'
  assert_eq "a|open
b|paid
d|open" "$(sql 'SELECT customer, status FROM invoice ORDER BY customer')"
  assert_eq "a|x|1|none
a|y|3|none
a|z|1|
b|v|1|none
b|w|2|gift
d|s|1|none" "$(sql 'SELECT i.customer, l.item, l.qty, l.note FROM line l JOIN invoice i ON i.id = l.invoice_id
                    ORDER BY 1, 2')" "lines, with their defaults"
}

test_a_tree_loads_in_batches_over_jobs_and_resumes_after_kill_9() {
  seed_tables
  local children=(--child annotations=annotation.sequence_id --child annotations.notes=note.annotation_id)
  records 3000 30 | pgrec -q "${children[@]}" --block 500 sequence >tree.copy
  run 0 pgcopy --script --jobs 2 --batch-rows 4000 tree.copy
  assert_contains "$err" "loaded 123,000 rows"
  assert_eq "3000|90000|30000" "$(sql 'SELECT (SELECT count(*) FROM sequence), (SELECT count(*) FROM annotation),
                                          (SELECT count(*) FROM note)')"
  sql "TRUNCATE sequence, annotation, note"
  # Killed part way, then the same command: every row once.
  pgcopy -q --script --jobs 2 --batch-rows 2000 --resume-key tree tree.copy 2>err &
  kill_once_rows_in annotation $!
  run 0 pgcopy --script --jobs 2 --batch-rows 2000 --resume-key tree tree.copy
  assert_eq "3000|90000|30000" "$(sql 'SELECT (SELECT count(*) FROM sequence), (SELECT count(*) FROM annotation),
                                          (SELECT count(*) FROM note)')"
  assert_eq 0 "$(sql "SELECT count(*) FROM annotation a JOIN sequence s ON s.id = a.sequence_id
                      WHERE a.label NOT LIKE replace(s.name, 'seq', 's') || 'a%'")"
}

test_a_script_in_batches_into_table_and_what_it_refuses() {
  sql "CREATE TABLE victim (a int)"
  printf 'COPY victim (a) FROM stdin;\n1\n2\n\\.\nCOPY victim (a) FROM stdin;\n3\n\\.\n' >two.sql
  run 0 pgcopy --batch-rows 1 victim two.sql
  assert_contains "$err" "in 3 batches"
  assert_eq "1 2 3" "$(sql "SELECT string_agg(a::text, ' ' ORDER BY a) FROM victim")"
  printf 'COPY victim (a) FROM stdin;\n1\n\\.\nCOPY victim (a) FROM stdin;\n2\nx\n\\.\n' >bad.sql
  run 2 pgcopy --batch-rows 1 victim bad.sql
  assert_contains "$err" "bad.sql:6: invalid input syntax for type integer"
  assert_contains "$err" "2 rows were committed in 2 batches"
  printf 'COPY victim (a) FROM stdin;\n1\n2\n' >cut.sql
  run 1 pgcopy --batch-rows 1 victim cut.sql
  assert_contains "$err" "the script ends inside the COPY block that starts at line 1"
  run 1 pgcopy --reject-file rej --batch-rows 1 victim two.sql
  assert_contains "$err" "--reject-file cannot be used with a script stream"
  sql "CREATE TABLE other (a int)"
  printf 'COPY other (a) FROM stdin;\n1\n\\.\n' >other.sql
  run 1 pgcopy --batch-rows 1 victim other.sql
  assert_contains "$err" "the script loads into"
}
