# make install puts everything where PREFIX and DESTDIR say, and the
# installed programs run on their own.

test_install_honours_prefix_and_destdir() {
  make -s -C "$PGPIPE_ROOT" install BUILD="$PGPIPE_BUILD" PREFIX=/opt/pgpipe DESTDIR="$TEST_DIR/root" >make.log 2>&1 ||
    { cat make.log; fail "make install failed"; }
  local top=$TEST_DIR/root/opt/pgpipe
  for f in bin/pgcopy bin/pgsandbox lib/libpgpipe.a lib/libpgpipe.so lib/libpgpipe.so.0 \
           include/pgpipe/copy_in.hpp share/man/man1/pgcopy.1 share/man/man1/pgsandbox.1 \
           share/bash-completion/completions/pgcopy share/bash-completion/completions/pgsandbox; do
    [ -e "$top/$f" ] || fail "missing $f"
  done
  run 0 "$top/bin/pgcopy" --version
  # The installed headers and shared library are enough to build against.
  cat >use.cpp <<'CPP'
#include <pgpipe/copy_format.hpp>
#include <cstdio>
int main() { std::printf("%s\n", pgpipe::copy_format_name(pgpipe::parse_copy_format("csv"))); }
CPP
  # A sanitized library (make asan) needs a sanitized program.
  local sanitize=()
  # (grep -c reads it all: with -q, nm would die of SIGPIPE and pipefail fail it)
  [ "$(nm -D "$top/lib/libpgpipe.so" | grep -c ' __asan_')" -gt 0 ] && sanitize=(-fsanitize=address,undefined)
  g++ -std=c++20 "${sanitize[@]}" -I"$top/include" -I/usr/include/postgresql use.cpp -L"$top/lib" -lpgpipe -o use
  assert_eq csv "$(LD_LIBRARY_PATH=$top/lib ./use)"
}
