# make bench's renderer turns a results file into docs/benchmarks.md: its
# own tests on made-up results files (no cluster, no timing).

test_the_bench_renderer_passes_its_tests() {
  run 0 python3 "$PGPIPE_ROOT/bench/render_test.py"
}
