# make install puts the programs, man pages and completions where PREFIX and
# DESTDIR say, the installed programs run on their own, and libpgpipe (an
# internal static library) is not installed.

test_install_honours_prefix_and_destdir() {
  make -s -C "$PGPIPE_ROOT" install BUILD="$PGPIPE_BUILD" PREFIX=/opt/pgpipe DESTDIR="$TEST_DIR/root" >make.log 2>&1 ||
    { cat make.log; fail "make install failed"; }
  local top=$TEST_DIR/root/opt/pgpipe p
  for p in pgcopy pggen pginsert pgrec pgreport pgsandbox; do
    for f in "bin/$p" "share/man/man1/$p.1" "share/bash-completion/completions/$p"; do
      [ -e "$top/$f" ] || fail "missing $f"
    done
  done
  [ -e "$top/share/bash-completion/completions/pgpipe-common.bash" ] || fail "missing pgpipe-common.bash"
  [ ! -e "$top/lib" ] && [ ! -e "$top/include" ] || fail "libpgpipe or its headers were installed"
  run 0 "$top/bin/pgcopy" --version
  # Linked statically against libpgpipe: nothing of it is needed at run time.
  assert_not_contains "$(ldd "$top/bin/pgcopy")" "libpgpipe"
  run 0 env PATH=/usr/bin:/bin "$top/bin/pggen" -n 2 'id=seq'
  assert_eq "$(printf '1\n2')" "$out"
}
