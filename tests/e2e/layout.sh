# The tree reads like the architecture of docs/design.md: lib/ by concern
# with includes running downwards, programs that do not reach into each
# other, functions short enough to read, and nothing pointing outside.

test_lib_holds_folders_by_concern_only() {
  cd "$PGPIPE_ROOT"
  local loose
  loose=$(find lib -maxdepth 1 -type f)
  assert_eq "" "$loose" "files directly in lib/"
  assert_eq "cli core io pg" "$(find lib -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort | tr '\n' ' ' | sed 's/ $//')"
}

test_includes_run_downwards_and_programs_stay_apart() {
  cd "$PGPIPE_ROOT"
  local -A rank=([core]=0 [io]=1 [pg]=2 [cli]=3)
  local file dir inc bad=""
  for file in lib/*/*.hpp lib/*/*.cpp; do
    dir=$(basename "$(dirname "$file")")
    while read -r inc; do
      [ -n "$inc" ] || continue
      [ "${rank[$inc]}" -le "${rank[$dir]}" ] || bad+="$file includes $inc/; "
    done < <(sed -nE 's@^#include "([a-z]+)/.*@\1@p' "$file")
  done
  for file in tools/*/*.hpp tools/*/*.cpp; do
    dir=$(basename "$(dirname "$file")")
    while read -r inc; do
      [ -n "$inc" ] || continue
      [ -n "${rank[$inc]+x}" ] || bad+="$file includes $inc/; "
    done < <(sed -nE 's@^#include "([a-z]+)/.*@\1@p' "$file")
  done
  assert_eq "" "$bad" "includes against the layering"
}

test_no_function_is_over_80_lines() {
  command -v ctags >/dev/null || skip "universal-ctags is not installed"
  cd "$PGPIPE_ROOT"
  local long
  long=$(ctags --c++-kinds=f --fields=+ne -f - lib/*/*.cpp lib/*/*.hpp tools/*/*.cpp tools/*/*.hpp |
    awk -F'\t' '{ l = 0; e = 0
      for (i = 4; i <= NF; i++) { if ($i ~ /^line:/) l = substr($i, 6); if ($i ~ /^end:/) e = substr($i, 5) }
      if (e - l + 1 > 80) printf "%s:%s %s (%d lines)\n", $2, l, $1, e - l + 1 }')
  assert_eq "" "$long" "functions over 80 lines"
}

test_nothing_points_outside_the_repository() {
  cd "$PGPIPE_ROOT"
  local hits
  hits=$(grep -rn 'shared/' README.md docs man lib tools tests completions scripts bench Makefile |
    grep -v '^tests/e2e/layout.sh' || true)
  assert_eq "" "$hits" "references to shared/"
  [ -f docs/design.md ] || fail "docs/design.md is missing"
  assert_contains "$(cat README.md)" "(docs/design.md)"
}

test_every_source_file_opens_with_what_it_holds() {
  local f missing=""
  for f in "$PGPIPE_ROOT"/lib/*/*.[ch]pp "$PGPIPE_ROOT"/tools/*/*.[ch]pp; do
    head -n 1 "$f" | grep -q '^// ' || missing+=" ${f#"$PGPIPE_ROOT"/}"
  done
  assert_eq "" "$missing" "files whose first line is not a comment"
}
