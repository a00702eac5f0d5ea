# pgcopy's speed levers: deferred indexes and constraints come back exactly
# as they were (or the load rolls back), TOAST compression is applied.

test_deferred_indexes_and_constraints_come_back_the_same() {
  users_tables
  local before
  before=$(schema_of users)
  pggen -q --preset users -n 50k >users.tsv
  run 0 pgcopy --defer-indexes --defer-constraints users users.tsv
  assert_eq 50000 "$(table_count users)"
  assert_eq "$before" "$(schema_of users)" "indexes and constraints after the load"
  # The rebuilt indexes are used and hold every row.
  assert_eq 1 "$(sql "SET enable_seqscan = off; SELECT count(*) FROM users WHERE username = 'user_777'")"
}

test_a_duplicate_found_at_the_rebuild_rolls_everything_back() {
  users_tables
  local before
  before=$(schema_of users)
  pggen -q --preset users -n 1000 >users.tsv
  pggen -q --preset users -n 1 --start 500 >>users.tsv
  run 2 pgcopy --defer-indexes users users.tsv
  assert_contains "$err" 'could not create unique index "users_pkey"'
  assert_contains "$err" "Key (id)=(500) is duplicated."
  assert_contains "$err" "nothing was committed"
  assert_eq 0 "$(table_count users)"
  assert_eq "$before" "$(schema_of users)" "indexes after the rollback"
}

test_a_foreign_key_violation_found_when_re_adding_rolls_back() {
  users_tables
  pggen -q --preset users -n 100 'role_id=int(1,20)' >users.tsv
  run 2 pgcopy --defer-constraints users users.tsv
  assert_contains "$err" 'violates foreign key constraint "users_role_id_fkey"'
  assert_eq 0 "$(table_count users)"
  assert_contains "$(schema_of users)" "users_role_id_fkey FOREIGN KEY (role_id) REFERENCES roles(id) t"
}

test_an_index_other_tables_depend_on_is_kept() {
  users_tables
  run 0 sh -c 'pggen -q --preset roles -n 10 --start 11 | pgcopy --defer-indexes roles'
  assert_contains "$err" 'keeping index public.roles_pkey: a foreign key of another table depends on it'
  assert_eq 20 "$(table_count roles)"
}

test_toast_compression_for_the_load() {
  pggen --ddl --preset posts | psql -Xq -v ON_ERROR_STOP=1
  run 1 pgcopy --toast-compression zip posts /dev/null
  assert_contains "$err" 'invalid --toast-compression "zip"'
  run 1 pgcopy --defer-indexes --on-conflict ignore posts /dev/null
  assert_contains "$err" "--defer-indexes cannot be used with --on-conflict"
  require_lz4
  pggen -q --preset posts -n 50 -F binary | pgcopy -q -F binary --toast-compression lz4 posts
  assert_eq "lz4" "$(sql 'SELECT DISTINCT pg_column_compression(payload) FROM posts')"
}
