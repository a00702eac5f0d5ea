#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for SECONDS seconds
# (default 10; make fuzz runs them for 300). Corpora live in build-fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
if ! command -v clang++ >/dev/null || ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
  echo "fuzz: clang++ with libFuzzer is not installed (clang, libclang-rt-14-dev)" >&2
  exit 77
fi
out=build-fuzz
mkdir -p "$out"
flags=(-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Ilib)
for target in tests/fuzz/*_fuzz.cpp; do
  name=$(basename "$target" .cpp)
  clang++ "${flags[@]}" "$target" lib/io/row_splitter.cpp lib/io/copy_format.cpp lib/io/copy_fields.cpp \
    lib/io/sql_names.cpp lib/core/text.cpp \
    -o "$out/$name"
  mkdir -p "$out/$name.corpus"
  echo "fuzz: $name for ${seconds}s" >&2
  "$out/$name" -max_total_time="$seconds" -max_len=4096 -print_final_stats=0 "$out/$name.corpus" \
    >"$out/$name.log" 2>&1 || { tail -n 40 "$out/$name.log"; exit 1; }
  grep -E '^#[0-9]+.*DONE' "$out/$name.log" | tail -n 1 >&2 || true
done
