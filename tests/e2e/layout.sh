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

# The lib/ files that the given files reach through their includes (a
# header's .cpp counts as reached with it, and its includes are followed
# too: the program links it), one per line, as "dir/name.hpp".
lib_files_reached() {
  local -A seen=()
  local queue=("$@") f inc
  while [ ${#queue[@]} -gt 0 ]; do
    f=${queue[0]}
    queue=("${queue[@]:1}")
    while read -r inc; do
      if [ ! -f "lib/$inc" ] || [ -n "${seen[$inc]+x}" ]; then continue; fi
      seen[$inc]=1
      queue+=("lib/$inc")
      if [ -f "lib/${inc%.hpp}.cpp" ]; then queue+=("lib/${inc%.hpp}.cpp"); fi
    done < <(sed -nE 's@^#include "([a-z]+/[a-z0-9_]+\.hpp)".*@\1@p' "$f")
  done
  [ ${#seen[@]} -eq 0 ] || printf '%s\n' "${!seen[@]}" | sort
}

test_every_lib_file_serves_two_programs_or_more() {
  cd "$PGPIPE_ROOT"
  # Code one program alone uses lives in its tools/ folder. Exceptions,
  # each with its reason, as "dir/name.hpp" (none today).
  local -A exception=()
  local -A users=()
  local program file bad=""
  for program in tools/*/; do
    while read -r file; do
      users[$file]+=" $(basename "$program")"
    done < <(lib_files_reached "$program"*.cpp "$program"*.hpp)
  done
  for file in lib/*/*.cpp; do
    [ -f "${file%.cpp}.hpp" ] || bad+="$file has no header; "
  done
  for file in lib/*/*.hpp; do
    file=${file#lib/}
    [ -z "${exception[$file]+x}" ] || continue
    # shellcheck disable=SC2086
    set -- ${users[$file]-}
    [ $# -ge 2 ] || bad+="lib/${file%.hpp}.* is used by ${*:-no program}; "
  done
  assert_eq "" "$bad" "lib/ files used by fewer than two programs"
}

test_lib_io_pulls_in_no_libpq() {
  cd "$PGPIPE_ROOT"
  local file bad=""
  for file in lib/io/*.hpp lib/io/*.cpp $(lib_files_reached lib/io/*.hpp lib/io/*.cpp | sed 's@^@lib/@;p;s@\.hpp$@.cpp@'); do
    [ -f "$file" ] || continue
    if grep -qE '^#include <libpq' "$file"; then bad+="$file; "; fi
  done
  assert_eq "" "$bad" "lib/io files that include libpq, directly or through what they include"
}
