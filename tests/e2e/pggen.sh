# pggen: the rows it writes are valid for their tables, reproducible,
# shardable, byte-identical to the server's own binary COPY, and every bad
# spec is refused before anything is written.

test_orders_preset_loads_the_spec_aggregates() {
  pggen --ddl --preset orders | psql -Xq -v ON_ERROR_STOP=1
  pggen -q --preset orders -n 1M | pgcopy -q orders
  assert_eq "1000000|250490000.0000|333333|666667" \
    "$(sql "SELECT count(*), sum(amount), count(*) FILTER (WHERE status = 'completed'),
                   count(*) FILTER (WHERE status = 'pending') FROM orders")"
  # The same values, computed by the server from the spec of make bench.
  assert_eq 0 "$(sql "SELECT count(*) FROM (
      SELECT i, i % 10000, (i % 500) + 0.99, CASE WHEN i % 3 = 0 THEN 'completed' ELSE 'pending' END
        FROM generate_series(1, 1000000) i
      EXCEPT SELECT id, customer_id, amount, status FROM orders) d")"
}

# A table with 24 columns of 21 types, NOT NULL, unique, CHECK and a foreign key.
make_typed_tables() {
  psql -Xq -v ON_ERROR_STOP=1 <<'SQL'
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE parent (code varchar(10) PRIMARY KEY);
INSERT INTO parent SELECT 'p' || i FROM generate_series(1, 50) i;
CREATE TABLE typed (
  id serial PRIMARY KEY,
  i2 int2 NOT NULL CHECK (i2 >= 10 AND i2 < 100), i4 int4 NOT NULL UNIQUE, i8 int8 CHECK (i8 > 0),
  n numeric(10,3) CHECK (n BETWEEN 5 AND 50), nu numeric, f4 real, f8 float8 NOT NULL, b bool,
  t text, vc varchar(20) UNIQUE, ch char(7), by bytea, d date, tm time, ts timestamp,
  tstz timestamptz NOT NULL, iv interval, u uuid UNIQUE, j json, jb jsonb, m mood,
  ia int[], ta text[], va varchar(5)[], parent_code varchar(10) NOT NULL REFERENCES parent
);
SQL
}

test_introspected_table_fills_100k_rows_within_constraints() {
  make_typed_tables
  local cols
  cols=$(pggen -q --list-columns typed)
  assert_not_contains "$cols" "id," "serial column left to the server"
  run 0 sh -c "pggen -n 100k typed | pgcopy -c '$cols' typed"
  assert_contains "$err" "leaving id to the server"
  assert_eq 100000 "$(table_count typed)"
  assert_eq "10|99" "$(sql 'SELECT min(i2), max(i2) FROM typed')" "CHECK range of i2"
  assert_eq 0 "$(sql 'SELECT count(*) FROM typed WHERE n < 5 OR n > 50 OR i8 <= 0')" "CHECK ranges"
  assert_eq 3 "$(sql 'SELECT count(DISTINCT m) FROM typed')" "enum labels used"
  assert_eq 50 "$(sql 'SELECT count(DISTINCT parent_code) FROM typed')" "foreign keys drawn from parent"
}

test_binary_output_equals_the_servers_binary_copy() {
  make_typed_tables
  local cols plain
  cols=$(pggen -q --list-columns typed)
  pggen -q -n 20000 --seed 7 typed >rows.tsv
  pggen -q -n 20000 --seed 7 -F binary typed >rows.bin
  pgcopy -q -c "$cols" typed rows.tsv
  # Every type but json and jsonb, byte for byte, in generation order (i4 is seq).
  plain=$(sed 's/,j,jb,/,/' <<<"$cols")
  sql "CREATE TABLE from_binary (LIKE typed)"
  sql "ALTER TABLE from_binary DROP COLUMN id"
  pgcopy -q -F binary from_binary rows.bin
  psql -XAtq -c "COPY (SELECT $cols FROM typed ORDER BY i4) TO STDOUT (FORMAT binary)" >server.bin
  # The server's bytes for all columns must equal pggen's, json included
  # only by value: compare the non-json columns exactly...
  psql -XAtq -c "COPY (SELECT $plain FROM typed ORDER BY i4) TO STDOUT (FORMAT binary)" >server_plain.bin
  psql -XAtq -c "COPY (SELECT $plain FROM from_binary ORDER BY i4) TO STDOUT (FORMAT binary)" >pggen_plain.bin
  assert_same_file server_plain.bin pggen_plain.bin
  # ...and pggen's own binary stream against the server's, field by field.
  python3 "$PGPIPE_ROOT/tests/copy_binary.py" compare rows.bin server.bin --json-fields "$cols" j,jb
  # json and jsonb by value.
  assert_eq 0 "$(sql "SELECT count(*) FROM typed t JOIN from_binary f USING (i4)
                      WHERE t.j::jsonb <> f.j::jsonb OR t.jb <> f.jb")" "json values"
}

test_same_seed_same_bytes_and_shards_concatenate() {
  local spec=('id=seq' 'w=words(1,4)' 'x=int(1,1000,zipf)|null(0.1)' 'u=uuid' 'at=timestamptz')
  pggen -q -n 50000 "${spec[@]}" --seed 5 >a.tsv
  pggen -q -n 50000 "${spec[@]}" --seed 5 >b.tsv
  pggen -q -n 50000 "${spec[@]}" --seed 6 >c.tsv
  assert_same_file a.tsv b.tsv
  cmp -s a.tsv c.tsv && fail "another seed gave the same rows"
  for fmt in text csv; do
    pggen -q -n 50000 "${spec[@]}" --seed 5 -F $fmt >whole.$fmt
    : >joined.$fmt
    for k in 1 2 3 4 5 6 7; do pggen -q -n 50000 "${spec[@]}" --seed 5 -F $fmt --shard $k/7 >>joined.$fmt; done
    assert_same_file whole.$fmt joined.$fmt
  done
  # --start continues where a run stopped.
  pggen -q -n 20000 "${spec[@]}" --seed 5 >head.tsv
  pggen -q -n 30000 "${spec[@]}" --start 20001 --seed 5 >tail.tsv
  cat head.tsv tail.tsv | cmp -s - a.tsv || fail "--start does not continue the stream"
}

test_binary_shards_each_load() {
  sql "CREATE TABLE s (id int, w text)"
  for k in 1 2 3; do pggen -q -n 10000 'id:int4=seq' 'w=words(1,3)' -F binary --shard $k/3 | pgcopy -q -F binary s; done
  assert_eq "10000|1|10000" "$(sql 'SELECT count(DISTINCT id), min(id), max(id) FROM s')"
}

test_row_counts_and_distributions() {
  assert_eq "$(pggen -q -n 1000 'a=seq' | md5sum)" "$(pggen -q -n 1e3 'a=seq' | md5sum)" "1e3"
  assert_eq "$(pggen -q -n 1000 'a=seq' | md5sum)" "$(pggen -q -n 1k 'a=seq' | md5sum)" "1k"
  assert_eq 2500000 "$(pggen -q -n 2.5M 'a=0' | wc -l)" "2.5M"
  pggen -q -n 20000 'x=int(1,10)|null(0.25)' 'z=int(1,100,zipf)' 'g=int(0,100,normal)' 'b=bool(0.9)' >d.tsv
  python3 - <<'PY'
import collections
rows = [l.rstrip("\n").split("\t") for l in open("d.tsv")]
nulls = sum(r[0] == "\\N" for r in rows) / len(rows)
assert 0.22 < nulls < 0.28, nulls
z = collections.Counter(int(r[1]) for r in rows)
assert z.most_common(1)[0][0] == 1 and z[1] > 5 * z[10], z.most_common(3)
g = [int(r[2]) for r in rows]
mid = sum(40 <= v <= 60 for v in g) / len(g)
assert 0.40 < mid < 0.52 and min(g) >= 0 and max(g) <= 100, mid
t = sum(r[3] == "t" for r in rows) / len(rows)
assert 0.88 < t < 0.92, t
PY
}

test_specs_offline_with_types_and_spec_file() {
  cat >cols.spec <<'SPEC'
# a comment, then specs
id:bigint=seq(100,10)
price:numeric(8,2)=numeric(0,999.99,2)
name:varchar(12)=format('n_{i}')
SPEC
  pggen -q --ddl --spec cols.spec products | psql -Xq -v ON_ERROR_STOP=1
  assert_contains "$(pggen -q --ddl --spec cols.spec products)" "price numeric(8,2)"
  pggen -q -n 1000 --spec cols.spec -F binary 'tag=choice(a:9,b:1)' >p.bin 2>/dev/null || true
  run 1 pggen -q -n 1000 --spec cols.spec 'id=seq'
  assert_contains "$err" "column id is given two generators"
  pggen -q -n 1000 --spec cols.spec -F binary | pgcopy -q -F binary products
  assert_eq "1000|100|10090|n_1000" "$(sql 'SELECT count(*), min(id), max(id), max(name) FILTER (WHERE id = 10090) FROM products')"
}

test_users_and_roles_presets_load_with_their_constraints() {
  pggen --ddl --preset roles | psql -Xq -v ON_ERROR_STOP=1
  pggen --ddl --preset users | psql -Xq -v ON_ERROR_STOP=1
  pggen -q --preset roles -n 10 | pgcopy -q roles
  pggen -q --preset users -n 100k -F binary | pgcopy -q -F binary users
  assert_eq "100000|user_1@test.com" "$(sql "SELECT count(DISTINCT username), min(email) FILTER (WHERE id = 1) FROM users")"
  pggen --ddl --preset posts | psql -Xq -v ON_ERROR_STOP=1
  pggen -q --preset posts -n 100 | pgcopy -q posts
  assert_eq 33516 "$(sql 'SELECT avg(length(title) + length(body) + length(payload))::int FROM posts')"
  pggen --ddl --preset pgbench_accounts | psql -Xq -v ON_ERROR_STOP=1
  pggen -q --preset pgbench_accounts -n 200k | pgcopy -q pgbench_accounts
  assert_eq "2|84" "$(sql 'SELECT max(bid), max(octet_length(filler)) FROM pgbench_accounts')"
}

test_bad_specs_are_refused_before_any_output() {
  check() { # STATUS NEEDLE ARGS...: nothing on stdout, the message on stderr
    local status=$1 needle=$2
    shift 2
    run "$status" pggen "$@"
    assert_eq "" "$out" "stdout of pggen $*"
    assert_contains "$err" "$needle"
  }
  check 1 'column x: unknown generator "nosuch"' 'x=nosuch(1)'
  check 1 "column x: the low end is above the high end" 'x=int(5,1)'
  check 1 'column x: the divisor must be a whole number, not "a"' 'x=mod(a)'
  check 1 "column x: missing )" 'x=int(1,2'
  check 1 'unknown distribution "pareto"' 'x=int(1,2,pareto)'
  check 1 'unknown preset "nosuch"' --preset nosuch
  check 1 "two tables given" --preset orders one two
  check 1 "is not COLUMN=GENERATOR" --spec <(echo 'amount numeric')
  check 1 "column nope is not a column of preset orders" --preset orders 'nope=seq'
  check 1 'does not fit type smallint: values from 1 to 100000' 'x:int2=int(1,100000)'
  check 1 "does not fit type integer: it makes text" 'x:int4=words'
  check 1 "holds 3" 'x:varchar(3)=words(1,2)'
  check 1 "nothing to generate"
  check 1 'invalid row count "lots"' -n lots 'x=seq'
  check 1 'invalid shard "3/2"' --shard 3/2 'x=seq'
  check 1 'relation "no_such_table" does not exist' no_such_table
  sql "CREATE TABLE tiny (k int2 UNIQUE CHECK (k BETWEEN 1 AND 50))"
  check 1 "column k is unique, but its range 1..50 holds fewer than 100 values" -n 100 tiny
  check 1 "column zz is not a column of" -n 10 tiny 'zz=seq'
  sql "CREATE TABLE child (k int REFERENCES tiny (k))"
  check 1 "references tiny, which is empty" child
}

test_zstd_output_and_files() {
  sql "CREATE TABLE z (id int, w text)"
  pggen -q -n 100000 'id=seq' 'w=words' --zstd | pgcopy -q z
  assert_eq 100000 "$(table_count z)"
  pggen -q -n 1000 'id=seq' 'w=words' --zstd=19 -o out.zst
  zstd -t -q out.zst
  assert_eq "$(pggen -q -n 1000 'id=seq' 'w=words' | md5sum)" "$(zstd -dc out.zst | md5sum)"
  run 1 pggen -n 10 'x=seq' --zstd=40
  assert_contains "$err" 'invalid zstd level "40"'
}

test_broken_pipe_is_a_normal_end() {
  local status
  pggen -q --preset orders -n 100M | head -n 3 >first
  status=${PIPESTATUS[0]}
  assert_eq 0 "$status" "pggen status after head closed the pipe"
  assert_eq 3 "$(wc -l <first)"
}

test_refuses_binary_and_zstd_to_a_terminal() {
  command -v script >/dev/null || skip "no script(1) for a pseudo-terminal"
  run 0 script -qec "pggen -q -F binary -n 1 'x=seq'; echo status=\$?" /dev/null
  assert_contains "$out" "refusing to write binary data to a terminal"
  assert_contains "$out" "status=1"
  run 0 script -qec "pggen -q --zstd -n 1 'x=seq'; echo status=\$?" /dev/null
  assert_contains "$out" "refusing to write compressed data to a terminal"
}

test_values_do_not_depend_on_start_or_row_count() {
  sql "CREATE TABLE uq (k int PRIMARY KEY, name varchar(8) UNIQUE, c int CHECK (c BETWEEN -10 AND -5),
                        big int CHECK (big >= 2000000))"
  # A second run with --start continues the keys of the first.
  pggen -q -n 100 uq | pgcopy -q uq
  pggen -q -n 100 --start 101 uq | pgcopy -q uq
  assert_eq "200|200|1|200" "$(sql 'SELECT count(*), count(DISTINCT k), min(k), max(k) FROM uq')"
  assert_eq "-10|-5" "$(sql 'SELECT min(c), max(c) FROM uq')" "CHECK range below the default window"
  assert_eq 0 "$(sql 'SELECT count(*) FROM uq WHERE big < 2000000')"
  # Row 99 is the same row whatever -n says.
  assert_eq "$(pggen -q -n 99 uq | tail -n 1)" "$(pggen -q -n 1000 uq | sed -n 99p)"
}

# A CHECK open on one side narrows the column's default to the rest of its
# type's range: smallint CHECK (n > 0) takes 1..32767, not 1..1000001.
test_one_sided_checks_stay_within_the_columns_type() {
  sql "CREATE TABLE sided (k smallint PRIMARY KEY CHECK (k > 0),
         s_pos smallint CHECK (s_pos > 0), s_neg smallint CHECK (s_neg < 0),
         s_ge smallint CHECK (s_ge >= 10), s_btw smallint CHECK (s_btw BETWEEN -5 AND 40000),
         i_pos integer CHECK (i_pos > 2147480000), i_neg integer CHECK (i_neg < -2147480000),
         b_neg bigint CHECK (b_neg < 0),
         n_pos numeric(5,2) CHECK (n_pos > 0), n_neg numeric(4,1) CHECK (n_neg <= 0),
         r_ge real CHECK (r_ge >= 10))"
  run 0 bash -o pipefail -c "pggen -q -n 20k sided | pgcopy -q sided"
  assert_eq 20000 "$(table_count sided)"
  # Each column's values lie within the CHECK and the type, and reach the
  # far end of the type's side (the range is the type's, not a smaller one).
  assert_eq "t|t|t|t|t|t|t|t|t|t" "$(sql "SELECT min(s_pos) >= 1 AND max(s_pos) > 30000,
      max(s_neg) <= -1 AND min(s_neg) < -30000, min(s_ge) >= 10 AND max(s_ge) > 30000,
      min(s_btw) >= -5 AND max(s_btw) > 30000,
      min(i_pos) > 2147480000, max(i_neg) < -2147480000,
      max(b_neg) < 0, min(n_pos) > 0 AND max(n_pos) > 900, max(n_neg) <= 0 AND min(n_neg) < -900,
      min(r_ge) >= 10 FROM sided")" "ranges of the columns"
  # A unique smallint holds 32767 values above 0, not a million.
  run 1 pggen -n 40000 sided
  assert_contains "$err" "column k is unique, but its range 1..32767 holds fewer than 40000 values"
}

test_dates_in_timestamp_columns_and_bare_generators() {
  sql "CREATE TABLE dts (a timestamptz, b date)"
  pggen -q -n 1 -F binary 'a:timestamptz=date(1999-12-31,1999-12-31)' 'b:date=date(1999-12-31 12:00:00,1999-12-31 12:00:00)' |
    pgcopy -q -F binary dts
  assert_eq "1999-12-31 00:00:00+00|1999-12-31" "$(PGTZ=UTC sql 'SELECT a, b FROM dts')"
  assert_eq 7 "$(pggen -q -n 1 'w=words(7)' | wc -w)"
  run 0 pggen -q -n 3 'f=float'
  run 0 pggen -q -n 2 --zstd 'a=seq'
  assert_eq "$(printf '1\n2')" "$(pggen -q -n 2 --zstd 'a=seq' | zstd -dc)" "--zstd does not swallow the next word"
  run 1 pggen -n 1 --start 0 'a=seq'
  assert_contains "$err" "--start must be 1 or more"
}

# complete_pggen WORD...: what the completion offers for the last WORD (as
# bash splits the line), sorted, on one line.
complete_pggen() {
  bash -c 'source "$1"; shift; COMP_WORDS=(pggen "$@"); COMP_CWORD=$#; COMP_LINE=$LINE; COMP_POINT=${#COMP_LINE}
           _pggen pggen "${!#}" "${COMP_WORDS[COMP_CWORD-1]}"; printf "%s\n" "${COMPREPLY[@]}"' \
    _ "$PGPIPE_ROOT/completions/pggen.bash" "$@" | sort | xargs
}

test_completion_offers_generator_names() {
  # Unquoted, readline replaces what follows "=" (bash splits there).
  assert_eq "time timestamp timestamptz" "$(LINE='pggen x=ti' complete_pggen x = ti)"
  assert_eq "seq" "$(LINE='pggen x:int4=se' complete_pggen x : int4 = se)"
  # Within an open quote, it replaces all that follows the quote.
  assert_eq "x:int4=int x:int4=interval" "$(LINE="pggen -n 3 'x:int4=in" complete_pggen -n 3 "'x:int4=in")"
  assert_eq "" "$(LINE="pggen 'x=int(" complete_pggen "'x=int(")" "nothing inside the arguments"
  assert_eq 24 "$(LINE='pggen x=' complete_pggen x = '' | wc -w)" "every generator after ="
}
