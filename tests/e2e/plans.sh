# Plans that must not fail where a plain load works (issue 20, items 6-8):
# pgcopy --fast checks each lever's preconditions before it picks it, a load
# that needs nothing of schema pgpipe never touches it, and a reserved id
# that does not fit its column is named as such.

# loader_role: a login role of this test's own (roles are cluster-wide), in $LOADER.
loader_role() {
  LOADER=loader_$(sql "SELECT oid FROM pg_database WHERE datname = current_database()")
  sql "CREATE ROLE $LOADER LOGIN"
}

# as_loader CMD...: runs CMD as $LOADER when it is set, else as the test's user.
as_loader() { if [ -n "${LOADER:-}" ]; then PGUSER=$LOADER "$@"; else "$@"; fi; }

# twin_loads MAKE INPUT [OPTION...]: MAKE NAME creates a table NAME; INPUT
# is loaded plainly into plain_t and with --fast -v into fast_t (both with
# OPTIONs, as as_loader says). Fails unless both exit 0 with the same rows;
# the --fast run's stderr (its plan) stays in $err.
twin_loads() {
  local make=$1 input=$2
  shift 2
  $make plain_t
  $make fast_t
  run 0 as_loader pgcopy -q "$@" plain_t "$input"
  run 0 as_loader pgcopy --fast -v "$@" fast_t "$input"
  assert_eq "$(sorted_md5 plain_t)" "$(sorted_md5 fast_t)" "rows of the plain and the --fast load"
}

# names_input N: N rows of one text column, wide enough (about 40 bytes) that
# --fast would defer the indexes of an empty table.
names_input() { seq 1 "$1" | sed 's/^/name-of-the-row-number-/' >"${2:-names.tsv}"; }

# pgpipe_made_by_superuser: schema pgpipe with all of pgcopy's tables, made
# as an earlier --resume-key and --defer-indexes load by the test's user make them.
pgpipe_made_by_superuser() {
  sql "CREATE TABLE earlier (id int PRIMARY KEY, name text)"
  printf '1\tx\n' >earlier.tsv
  pgcopy -q --resume-key earlier earlier earlier.tsv
  printf '2\ty\n' >earlier.tsv
  pgcopy -q --batch-rows 1 --defer-indexes earlier earlier.tsv
  assert_eq 4 "$(sql "SELECT count(*) FROM pg_tables WHERE schemaname = 'pgpipe'")" "pgcopy's tables"
}

# ------------------------------------------------------------ item 6: schema pgpipe

test_a_role_without_rights_on_pgpipe_loads_in_every_mode_that_needs_nothing_of_it() {
  pgpipe_made_by_superuser
  loader_role
  sql "CREATE TABLE t (id int PRIMARY KEY, name text); GRANT INSERT ON t TO $LOADER"
  seq 1 50 | sed 's/$/\tname/' >in.tsv
  local mode n=0
  for mode in "" "--batch-rows 7" "--reject-file rejects" "--jobs 2 --batch-rows 7" "--fast"; do
    sql "TRUNCATE t"
    # shellcheck disable=SC2086 # each mode is a few words
    run 0 as_loader pgcopy -q $mode t in.tsv
    assert_eq 50 "$(table_count t)" "rows loaded with [$mode]"
    n=$((n + 1))
  done
  assert_eq 5 "$n" "modes tried"
  # Rows already there: --on-conflict ignore skips them, with INSERT alone.
  run 0 as_loader pgcopy -q --on-conflict ignore t in.tsv
  assert_eq 50 "$(table_count t)" "rows after --on-conflict ignore"
}

test_a_load_that_needs_pgpipe_names_the_privilege_it_lacks() {
  pgpipe_made_by_superuser
  loader_role
  sql "CREATE TABLE t (id int PRIMARY KEY, name text); ALTER TABLE t OWNER TO $LOADER"
  seq 1 50 | sed 's/$/\tname/' >in.tsv
  run 2 as_loader pgcopy --resume-key k t in.tsv
  assert_contains "$err" "pgcopy: error: --resume-key needs USAGE on schema pgpipe"
  assert_contains "$err" "pgcopy: hint: GRANT USAGE ON SCHEMA pgpipe TO $LOADER"
  run 2 as_loader pgcopy --retries 2 t in.tsv
  assert_contains "$err" "pgcopy: error: --retries needs USAGE on schema pgpipe"
  run 2 as_loader pgcopy --batch-rows 7 --defer-indexes t in.tsv
  assert_contains "$err" "pgcopy: error: --defer-indexes needs USAGE on schema pgpipe"
  # With USAGE, the tables' own privileges.
  sql "GRANT USAGE ON SCHEMA pgpipe TO $LOADER"
  run 2 as_loader pgcopy --resume-key k t in.tsv
  assert_contains "$err" "pgcopy: error: --resume-key needs SELECT, INSERT, UPDATE, DELETE on pgpipe.load_progress"
  assert_contains "$err" "pgcopy: hint: GRANT SELECT, INSERT, UPDATE, DELETE ON pgpipe.load_progress, pgpipe.load_batches TO $LOADER"
  assert_eq 0 "$(table_count t)" "rows loaded by refused loads"
  # A first use needs CREATE on the database.
  sql "DROP SCHEMA pgpipe CASCADE"
  run 2 as_loader pgcopy --resume-key k t in.tsv
  assert_contains "$err" "pgcopy: error: --resume-key needs CREATE on database $PGDATABASE to create schema pgpipe"
  assert_contains "$err" "pgcopy: hint: GRANT CREATE ON DATABASE"
  # --fast needs none of it: it keeps the indexes and says why.
  names_input 3000 in.tsv
  sql "DROP TABLE t; CREATE TABLE t (id serial PRIMARY KEY, name text); ALTER TABLE t OWNER TO $LOADER"
  run 0 as_loader pgcopy --fast -v -c name t in.tsv
  assert_contains "$err" "plan: indexes and constraints kept: deferring needs CREATE on database $PGDATABASE to create schema pgpipe"
  assert_eq 3000 "$(table_count t)"
}

test_fast_under_row_level_security_gives_the_servers_reason() {
  pgpipe_made_by_superuser
  loader_role
  sql "CREATE TABLE t (id int PRIMARY KEY, name text); ALTER TABLE t OWNER TO $LOADER;
       ALTER TABLE t ENABLE ROW LEVEL SECURITY; ALTER TABLE t FORCE ROW LEVEL SECURITY;
       CREATE POLICY everything ON t USING (true);
       GRANT USAGE ON SCHEMA pgpipe TO $LOADER"
  names_input 3000 in.tsv
  run 2 as_loader pgcopy -c name t in.tsv
  assert_contains "$err" "COPY FROM not supported with row-level security"
  run 2 as_loader pgcopy --fast -c name t in.tsv
  assert_contains "$err" "COPY FROM not supported with row-level security"
  assert_not_contains "$err" "deferred"
}

# ------------------------------------------------------------ item 7: --fast's levers

test_fast_leaves_ids_to_a_sequence_owned_by_another_role() {
  loader_role
  make_table() {
    sql "CREATE TABLE $1 (id serial PRIMARY KEY, name text); GRANT INSERT, SELECT ON $1 TO $LOADER;
         GRANT USAGE ON SEQUENCE ${1}_id_seq TO $LOADER"
  }
  names_input 3000
  twin_loads make_table names.tsv -c name
  assert_contains "$err" "plan: ids as the sequence gives them: ALTER SEQUENCE public.fast_t_id_seq needs its owner"
  assert_contains "$err" "plan: indexes and constraints kept: dropping them needs the owner of fast_t"
}

test_fast_leaves_ids_to_a_cycling_sequence() {
  make_table() {
    sql "CREATE SEQUENCE ${1}_s MAXVALUE 1008 CYCLE; SELECT setval('${1}_s', 1000);
         CREATE TABLE $1 (id int DEFAULT nextval('${1}_s'), name text); ALTER SEQUENCE ${1}_s OWNED BY $1.id" >/dev/null
  }
  names_input 20
  twin_loads make_table names.tsv -c name
  assert_eq 1 "$(sql "SELECT min(id) FROM fast_t")" "the sequence wrapped"
  assert_contains "$err" "plan: ids as the sequence gives them: public.fast_t_s cycles"
}

test_fast_keeps_a_primary_key_a_view_depends_on() {
  make_table() { sql "CREATE TABLE $1 (id serial PRIMARY KEY, name text); CREATE VIEW ${1}_v AS SELECT id, name FROM $1 GROUP BY id"; }
  names_input 3000
  twin_loads make_table names.tsv -c name
  assert_contains "$err" "plan: indexes and constraints kept: view fast_t_v depends on constraint fast_t_pkey on table fast_t"
}

test_fast_keeps_the_indexes_a_trigger_may_rely_on() {
  make_table() {
    sql "CREATE TABLE $1 (k int UNIQUE, n int);
         CREATE FUNCTION ${1}_add() RETURNS trigger LANGUAGE plpgsql AS \$\$BEGIN
           IF pg_trigger_depth() = 1 THEN
             INSERT INTO $1 VALUES (NEW.k, NEW.n) ON CONFLICT (k) DO UPDATE SET n = $1.n + EXCLUDED.n;
             RETURN NULL;
           END IF;
           RETURN NEW; END\$\$;
         CREATE TRIGGER add BEFORE INSERT ON $1 FOR EACH ROW EXECUTE FUNCTION ${1}_add()"
  }
  for i in $(seq 1 3000); do echo "$((i % 50))	1"; done >counts.tsv
  twin_loads make_table counts.tsv
  assert_eq 50 "$(table_count fast_t)"
  assert_contains "$err" "plan: indexes and constraints kept: trigger add on fast_t may rely on them"
}

test_fast_keeps_a_replica_identity_index() {
  make_table() { sql "CREATE TABLE $1 (id serial PRIMARY KEY, name text); ALTER TABLE $1 REPLICA IDENTITY USING INDEX ${1}_pkey"; }
  names_input 3000
  twin_loads make_table names.tsv -c name
  assert_eq t "$(sql "SELECT indisreplident FROM pg_index WHERE indexrelid = 'fast_t_pkey'::regclass")" "replica identity"
  assert_contains "$err" "plan: indexes and constraints kept: index fast_t_pkey is the table's replica identity"
}

test_fast_keeps_the_indexes_of_a_partitioned_table_and_of_a_partition() {
  make_table() {
    sql "CREATE TABLE $1 (id serial, name text, PRIMARY KEY (id)) PARTITION BY RANGE (id);
         CREATE TABLE ${1}_1 PARTITION OF $1 FOR VALUES FROM (0) TO (1000000)"
  }
  names_input 3000
  twin_loads make_table names.tsv -c name
  assert_contains "$err" "plan: indexes and constraints kept: fast_t is partitioned"
  # A partition of its own: ids past the first load's, more than the partition holds.
  seq 5001 15000 | sed 's/$/\tname-of-a-row-loaded-into-the-partition/' >rows.tsv
  run 0 pgcopy -q plain_t_1 rows.tsv
  run 0 pgcopy --fast -v fast_t_1 rows.tsv
  assert_contains "$err" "plan: indexes and constraints kept: fast_t_1 is a partition"
  assert_eq "$(sorted_md5 plain_t)" "$(sorted_md5 fast_t)" "rows after loading the partitions"
}

test_fast_leaves_a_key_other_tables_reference_in_place() {
  make_table() { sql "CREATE TABLE $1 (id serial PRIMARY KEY, name text); CREATE TABLE ${1}_child (id int REFERENCES $1)"; }
  names_input 3000
  twin_loads make_table names.tsv -c name
  assert_eq 1 "$(sql "SELECT count(*) FROM pg_constraint WHERE conrelid = 'fast_t_child'::regclass")" "the referencing key"
}

# ------------------------------------------------------------ item 8: a reserved id out of its column's range

test_a_reserved_id_out_of_its_columns_range_is_named_as_such() {
  sql "CREATE SEQUENCE s AS bigint; SELECT setval('s', 32760);
       CREATE TABLE r (id int2 DEFAULT nextval('s'), name text); ALTER SEQUENCE s OWNED BY r.id" >/dev/null
  seq 1 20 | sed 's/^/n/' >r.tsv
  run 2 pgcopy --reserve-ids -c name r r.tsv
  assert_contains "$err" 'pgcopy: error: r.tsv:8: id 32768 reserved from sequence public.s for column id is out of range for type smallint'
  assert_contains "$err" 'pgcopy: detail: the batch reserved ids 32761 to 32780'
  assert_not_contains "$err" 'value "32768"'
  # --fast sees it coming: the sequence passes the column's range. A plain load fails too.
  run 2 pgcopy --fast -v -c name r r.tsv
  assert_contains "$err" "plan: ids as the sequence gives them: public.s goes past the smallint range of id"
  assert_contains "$err" "smallint out of range"
}
