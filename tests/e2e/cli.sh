# What every program owes its users: --help, --version, bad options, a man
# page that renders cleanly and a completion, all in step with --help.

PROGRAMS="pgcopy pgsandbox pggen pgreport pginsert pgrec"

# long_options PROG: the long options --help lists in its option lines
# (not those in examples), one per line.
long_options() { "$1" --help | sed -nE 's/^ +(-[^ ], )?(--[a-z][a-z-]*).*/\2/p' | sort -u; }

check_help_version_bad_option() {
  local prog=$1
  run 0 "$prog" --help
  assert_eq "" "$err" "$prog --help stderr"
  [ -n "$out" ] || fail "$prog --help printed nothing"
  assert_contains "$out" "Usage:"
  local wide
  wide=$(awk 'length($0) > 80' out)
  assert_eq "" "$wide" "$prog --help lines over 80 columns"
  run 0 "$prog" --version
  assert_contains "$out" "$prog (pgpipe) "
  run 1 "$prog" --no-such-option
  assert_eq "" "$out" "stdout after a bad option"
  assert_eq 2 "$(wc -l <err)" "stderr lines after a bad option"
  assert_contains "$(head -n 1 err)" "$prog: error: unrecognised option '--no-such-option'"
  assert_eq "Try \"$prog --help\" for more information." "$(tail -n 1 err)"
}

test_pgcopy_help_version_and_bad_option() { check_help_version_bad_option pgcopy; }
test_pgsandbox_help_version_and_bad_option() { check_help_version_bad_option pgsandbox; }
test_pggen_help_version_and_bad_option() { check_help_version_bad_option pggen; }
test_pgreport_help_version_and_bad_option() { check_help_version_bad_option pgreport; }
test_pginsert_help_version_and_bad_option() { check_help_version_bad_option pginsert; }
test_pgrec_help_version_and_bad_option() { check_help_version_bad_option pgrec; }

test_man_pages_render_without_warnings() {
  for prog in $PROGRAMS; do
    local page=$PGPIPE_ROOT/man/$prog.1
    [ -f "$page" ] || fail "no man page for $prog"
    run 0 groff -ww -man -z "$page"
    assert_eq "" "$err$out" "groff warnings for $prog.1"
    grep -q '^\.SH "\?EXIT STATUS' "$page" || fail "$prog.1 has no EXIT STATUS section"
  done
}

test_every_long_option_is_in_man_page_and_completion() {
  for prog in $PROGRAMS; do
    local page=$PGPIPE_ROOT/man/$prog.1 completion=$PGPIPE_ROOT/completions/$prog.bash
    [ -f "$completion" ] || fail "no completion for $prog"
    # The man page as a reader sees it.
    groff -man -Tutf8 -P-c "$page" 2>/dev/null | sed 's/\x1b\[[0-9;]*m//g; s/.\x08//g' | tr '‐−' '--' >rendered
    # What the completion offers after "prog --".
    bash -c "source '$completion'; COMP_WORDS=($prog --); COMP_CWORD=1; COMP_LINE='$prog --'; COMP_POINT=\${#COMP_LINE}
             _$prog $prog -- $prog; printf '%s\n' \"\${COMPREPLY[@]}\"" | sed 's/=$//' >offered
    for option in $(long_options "$prog"); do
      grep -q -- "$option" rendered || fail "$prog.1 does not mention $option"
      grep -qx -- "$option" offered || fail "the $prog completion does not offer $option"
    done
  done
}

test_completion_offers_formats_and_tables() {
  sql "CREATE TABLE completion_target (a int)"
  local completion=$PGPIPE_ROOT/completions/pgcopy.bash
  bash -c "source '$completion'; COMP_WORDS=(pgcopy -F ''); COMP_CWORD=2; COMP_LINE='pgcopy -F '; COMP_POINT=\${#COMP_LINE}
           _pgcopy pgcopy '' -F; printf '%s\n' \"\${COMPREPLY[@]}\"" >formats
  assert_eq "binary csv text" "$(sort formats | xargs)" "formats offered"
  bash -c "source '$completion'; COMP_WORDS=(pgcopy complet); COMP_CWORD=1; COMP_LINE='pgcopy complet'; COMP_POINT=\${#COMP_LINE}
           _pgcopy pgcopy complet pgcopy; printf '%s\n' \"\${COMPREPLY[@]}\"" >tables
  grep -qx completion_target tables || fail "table not offered: $(cat tables)"
}
