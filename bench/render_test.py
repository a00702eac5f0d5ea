#!/usr/bin/env python3
"""bench/render_test.py: tests of bench/render.py on small made-up results files (no cluster).

    python3 bench/render_test.py
"""
import io
import os
import sys
import tempfile
import unittest
from contextlib import redirect_stderr

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import render  # noqa: E402

N = {'orders': 1000, 'posts': 100, 'users': 200}
SLOW = {'orders': 100, 'posts': 100, 'users': 50}
MAIN = ['server', 'psql', 'pgcopy-text', 'pgcopy-csv', 'pgcopy-binary', 'pgcopy-zstd',
        'pgcopy-fast', 'pggen-pgcopy', 'pgrec-pgcopy', 'pgcopy-batches', 'pginsert-values',
        'pginsert-pipeline', 'pginsert-txn', 'pginsert-row']
EXPERIMENTS = [('orders', ['sweep-copy-one', 'sweep-values-100', 'sweep-copy-100']),
               ('orders', ['cost-one', 'cost-batches']),
               ('orders', ['idx-pk-plain', 'idx-pk-defer', 'idx-sec-plain', 'idx-sec-defer']),
               ('users', ['con-plain', 'con-noemail', 'con-defer-idx', 'con-defer-con',
                          'con-defer-both']),
               ('posts', ['toast-psql', 'toast-text-pglz', 'toast-text-lz4', 'toast-bin-pglz',
                          'toast-bin-lz4']),
               ('users', ['par-j1', 'par-j2', 'par-j3', 'par-j2-default', 'par-fast',
                          'par-psql']),
               ('orders', ['jobs-one', 'jobs-two'])]
# What results files from before pgcopy --fast lack.
NEW = ('pgcopy-fast', 'par-j2-default', 'par-fast', 'par-psql', 'jobs-one', 'jobs-two')
# Seconds of a run where the method is not named here: 1.0 (psql's too).
SECONDS = {'pgcopy-text': 0.5, 'pggen-binary-lz4': 0.1, 'pginsert-row': 0.4,
           'pginsert-txn': 0.3, 'pginsert-pipeline': 2.0, 'pginsert-values': 1.5,
           'idx-pk-defer': 0.5, 'con-defer-both': 0.5, 'par-j2': 0.5, 'pgcopy-fast': 0.4,
           'par-fast': 0.25, 'par-j2-default': 0.8, 'jobs-two': 0.9}


def meta_lines(quick, pgrec, new=True):
    """The settings of a made-up run."""
    meta = {'format': 1, 'mode': 'quick' if quick else 'full', 'runs': 3, 'exp_runs': 3,
            'roles_n': 10, 'sweep': '100', 'datasets': 'orders posts users', 'par_batch': 100,
            'cost_runs': 3, 'commit': 'abc1234', 'nproc': 2, 'cpu': 'CPU', 'mem_gib': 8,
            'kernel': 'Linux', 'disk': 'disk', 'server_version': '15', 'settings': 'fsync = off',
            'toast_default': 'pglz', 'psql_version': 'psql 15', 'pgcopy_version': '',
            'have_pgrec': '1' if pgrec else '', 'pgrec_path': 'build/bin/pgrec',
            'python_orm': 0, 'date': 'today', 'elapsed_s': 60}
    if new:
        meta.update({'par_rows': N['users'], 'fast_plan.orders.pgcopy-fast': '2 jobs; lz4',
                     'fast_plan.users.pgcopy-fast': '2 jobs; indexes deferred',
                     'fast_plan.users.par-fast': '2 jobs; indexes deferred',
                     'kill_check': 'PASS 200000 rows, 4 kills (2 during the load, 2 during the rebuild)',
                     'routed_check': 'PASS range and hash, 1000 rows: placed right',
                     'routed_kill': 'FAIL 1000 rows, killed with 1000 committed'})
    for ds, n in N.items():
        meta.update({'rows.' + ds: n, 'slow_rows.' + ds: SLOW[ds], 'text_bytes.' + ds: n * 30,
                     'csv_bytes.' + ds: n * 30, 'binary_bytes.' + ds: n * 40,
                     'zstd_bytes.' + ds: n})
    return ['meta\t%s\t%s' % kv for kv in meta.items()]


def run_lines(ds, methods, rss):
    """A warm-up and three timed rounds of METHODS on DS."""
    lines = []
    for run in range(4):
        for m in methods:
            rows = SLOW[ds] if m in ('pginsert-txn', 'pginsert-row') else N[ds]
            kib = '-' if m == 'server' else str(rss.get(m, 12000))
            lines.append('run\t%s\t%s\t%d\t%.4f\t%d\t%d\t%s\t%d' % (
                ds, m, run, SECONDS.get(m, 1.0) * (1 + run / 100), rows, rows * 30, kib,
                1048576))
    return lines


def results(quick=True, pgrec=True, rss=None, new=True):
    """A whole made-up results file, as lines (without NEW's methods unless NEW)."""
    def kept(ms):
        return [m for m in ms if (pgrec or m != 'pgrec-pgcopy') and (new or m not in NEW)]
    lines = meta_lines(quick, pgrec, new)
    for ds in N:
        ms = kept(MAIN)
        lines += run_lines(ds, ms + ['pggen-binary-lz4'] if ds == 'posts' else ms, rss or {})
    for ds, ms in EXPERIMENTS:
        lines += run_lines(ds, kept(ms), rss or {})
    for run in range(4):
        lines.append('run\tgenerate\tpggen\t%d\t0.5\t5000\t-\t-\t-' % run)
        lines.append('run\tgenerate\tserver\t%d\t2.0\t5000\t-\t-\t-' % run)
        if pgrec:
            lines.append('run\tconvert\tpgrec\t%d\t0.0005\t1000\t30000\t-\t-' % run)
    if new:
        for run in range(4):
            for ds in ('routed_range', 'routed_hash'):
                lines.append('run\t%s\tlocal\t%d\t1.0\t1000\t-\t-\t-' % (ds, run))
                lines.append('run\t%s\trouted\t%d\t0.8\t1000\t-\t-\t-' % (ds, run))
        lines.append('run\trouted_range\tstreamed\t1\t60.0\t1000\t-\t-\t-')
        lines.append('run\trouted_hash\tstreamed\t1\t6.0\t1000\t-\t-\t-')
    if not quick:
        lines.append('run\tstream\tpggen-pgcopy\t1\t10.0\t10000000\t-\t12288\t-')
    return [line + '\n' for line in lines]


def render_lines(lines):
    """The Markdown of LINES."""
    return render.Report(render.Results(lines)).markdown()


class RenderTest(unittest.TestCase):
    """The report made of known measurements."""

    def assertHas(self, text, part):
        """PART is in TEXT (a failure shows PART only, not the whole report)."""
        self.assertTrue(part in text, 'not in the report: %r' % part)

    def test_sections_in_order(self):
        md = render_lines(results())
        self.assertEqual([line for line in md.split('\n') if line.startswith('#')], [
            '# pgpipe benchmarks', '## How to read this', '## Input files', '## Load times',
            '## Batch-size sweep', '## Index and constraint overhead',
            '## TOAST compression (posts)', '## Parallel loads (--jobs)',
            '## pgcopy --fast and --jobs without a batch size',
            '## Routed loads: a table partitioned over three postgres_fdw servers', '## Generation',
            '## Memory on a large stream', '## Acceptance'])

    def test_medians_and_ratios_against_psql(self):
        md = render_lines(results())
        # Timed runs only (the warm-up, run 0, is faster here): median of 0.505, 0.51, 0.515.
        self.assertHas(md, '| orders | pgcopy text | 0.510 | 1961 | 0.1 | 2.00× | 11.7 | '
                       '0.51, 0.51, 0.52 |')
        self.assertHas(md, r'| orders: pgcopy text ≥ 1.0× psql \copy | 2.000× | PASS |')
        self.assertHas(md, r'| posts: pgcopy binary ≥ 1.0× psql \copy | 1.000× | PASS |')

    def test_slow_strategies_are_rates_on_fewer_rows(self):
        md = render_lines(results())
        self.assertHas(md, '| orders | pginsert txn — measured on 100 rows; rate extrapolated '
                       '| 0.306 | 327 | 0.0 | 0.33× |')
        self.assertHas(md, '| posts | pginsert txn | 0.306 |')
        self.assertHas(md, 'orders: pginsert row < txn < min(pipeline, values) < pgcopy text, '
                       'by rate (row, txn: rates on 100 rows) | row 0.250× < txn 0.333×')

    def test_quick_mode_has_no_stream(self):
        md = render_lines(results(quick=True))
        self.assertHas(md, 'Not run in quick mode (QUICK=1); `make bench` loads 10000000 rows here.')
        self.assertHas(md, '(quick mode: the 10M-row run was skipped)')
        full = render_lines(results(quick=False))
        self.assertHas(full, '| 10000000 | 10.00 | 1000000 | 12.0 |')
        self.assertHas(full, 'the 10000000-row pipe included')

    def test_without_pgrec(self):
        md = render_lines(results(pgrec=False))
        self.assertHas(md, r'pgrec \| pgcopy: not built yet (no `build/bin/pgrec`), so it has no rows')
        self.assertFalse('pgrec JSON' in md)
        self.assertHas(render_lines(results()), '| pgrec JSON → text ≥ 1M records/s on one core '
                       '(orders shape) | 2.00M records/s | PASS |')

    def test_memory_bound_names_the_worst_streamed_run(self):
        md = render_lines(results(rss={'pgcopy-zstd': 20480, 'par-j3': 40960}))
        self.assertHas(md, '| 20.0 MiB max (orders pgcopy zstd text) | FAIL |')
        self.assertHas(md, 'batches: peak RSS | 40.0 MiB max (users pgcopy --jobs 3) | – |')

    def test_fast_in_the_main_table(self):
        md = render_lines(results())
        # 0.408 (median of 0.404, 0.408, 0.412) against psql's 1.02: 2.50×.
        self.assertHas(md, '| orders | pgcopy --fast (text file as an argument) | 0.408 | 2451 | '
                       '0.1 | 2.50× | 11.7 | 0.40, 0.41, 0.41 |')

    def test_fast_and_default_batches_section(self):
        md = render_lines(results())
        self.assertHas(md, '| orders | 1000 | 1.020 | 0.408 | 2.50× | 11.7 | 0.40, 0.41, 0.41 |')
        self.assertHas(md, '| posts | 100 | 1.020 | 0.408 | 2.50× | 11.7 | 0.40, 0.41, 0.41 |')
        self.assertHas(md, '| users (the --jobs file) | 200 | 1.020 | 0.255 | 4.00× | 11.7 | '
                       '0.25, 0.26, 0.26 |')
        # Each plan once, with the loads that chose it (posts has none recorded).
        self.assertHas(md, 'What --fast chose:\n\n- orders: 2 jobs; lz4\n'
                       '- users, users (the --jobs file): 2 jobs; indexes deferred\n')
        self.assertHas(md, '| orders | 1000 | pgcopy, one job (no --jobs, no --batch-rows) | '
                       '1.020 | 0.918 | 1.11× | 0.91, 0.92, 0.93 |')
        self.assertHas(md, '| users (the --jobs file) | 200 | pgcopy --jobs 1 --batch-rows 100 | '
                       '1.020 | 0.816 | 1.25× | 0.81, 0.82, 0.82 |')
        # The parallel table has the new rows of the same file, against --jobs 1.
        self.assertHas(md, '| pgcopy --jobs 2, no --batch-rows (batches from the file size) | '
                       '0.816 | 245 | 0.0 | 1.25× |')
        self.assertHas(md, '| psql \\copy (text) | 1.020 | 196 | 0.0 | 1.00× | 11.7 |')
        self.assertHas(md, 'by `pgcopy --fast` and by `psql \\copy`, in the same rounds.')

    def test_fast_and_default_batch_checks(self):
        md = render_lines(results())
        for line in (
                '| orders: `pgcopy --fast` ≥ 1.8× psql \\copy | 2.500× | PASS |',
                '| users, 200 rows: `pgcopy --fast` ≥ 2.5× psql \\copy | 4.000× | PASS |',
                '| users, 200 rows: `pgcopy --jobs 2` with default batches ≥ 1.4× --jobs 1 '
                '--batch-rows 100 | 1.250× | FAIL |',
                '| orders: `pgcopy --jobs 2` with default batches ≥ 1.0× one job | 1.111× | PASS |',
                '| posts: `pgcopy --fast` from the text file ≥ 4× psql \\copy | 2.500× | FAIL |',
                # the existing ones stay
                '| posts: `pggen --preset posts -F binary \\| pgcopy --toast-compression lz4 '
                'posts` ≥ 5× psql \\copy of the text file | 10.000× | PASS |',
                '| orders: --batch-rows 100k costs ≤ 5% against one COPY (≥ 0.95×; median of 3) '
                '| 1.000× | PASS |'):
            self.assertHas(md, line)

    def test_results_from_before_fast(self):
        md = render_lines(results(new=False))
        self.assertHas(md, '## pgcopy --fast and --jobs without a batch size\n\n'
                       'Not measured in this run (its results file predates these methods).\n')
        self.assertFalse('pgcopy --fast (text file' in md)
        self.assertFalse('The same file is also loaded by' in md)
        self.assertEqual(md.count('| not measured in this run | – |'), 12)
        self.assertHas(md, '| users, 200 rows: `pgcopy --fast` ≥ 2.5× psql \\copy '
                       '| not measured in this run | – |')

    def test_routed_loads(self):
        md = render_lines(results())
        self.assertHas(md, '| range | routed | 0.800 | 1250 | 1.25× | 75.00× | 0.80, 0.80, 0.80 |')
        self.assertHas(md, '| range, 1,000 rows over 3 foreign partitions: routed ≥ 0.8× the speed of one '
                       'local table | 1.250× | PASS |')
        self.assertHas(md, '| hash (modulus 3), 1,000 rows: routed ≥ 10× the COPY streamed through the '
                       'parent | 7.500× | FAIL |')
        self.assertHas(md, 'then the same command | 1000 rows, killed with 1000 committed | FAIL |')

    def test_kill_check_verdict(self):
        md = render_lines(results())
        self.assertHas(md, 'the table equals the input, every index and constraint back and valid '
                       '| 200000 rows, 4 kills (2 during the load, 2 during the rebuild) | PASS |')
        res = results()
        res = [l.replace('kill_check\tPASS', 'kill_check\tFAIL') for l in res]
        self.assertHas(render_lines(res), '| 200000 rows, 4 kills (2 during the load, 2 during the rebuild) | FAIL |')

    def test_new_batched_methods_are_not_held_to_the_streamed_bound(self):
        for m in ('pgcopy-fast', 'par-fast', 'par-j2-default', 'jobs-two'):
            md = render_lines(results(rss={m: 40960}))
            self.assertHas(md, 'peak RSS | 40.0 MiB max (')
            self.assertHas(md, '| 11.7 MiB max (orders pgcopy text, one COPY) | PASS |')
        # One job in one COPY streams; psql's RSS is not pgcopy's.
        md = render_lines(results(rss={'jobs-one': 20480, 'par-psql': 81920}))
        self.assertHas(md, '| 20.0 MiB max (orders pgcopy, one job (no --jobs, no --batch-rows)) '
                       '| FAIL |')
        self.assertFalse('80.0 MiB' in md.split('## Acceptance')[1])

    def test_median_of_an_even_count(self):
        self.assertEqual(render.median([4.0, 1.0, 2.0, 3.0]), 2.5)
        self.assertEqual(render.median([0.33333, 0.1]), 0.2167)

    def test_bad_results_files(self):
        with self.assertRaisesRegex(render.RenderError, 'line 1: neither'):
            render.Results(['x\ty\n'])
        with self.assertRaisesRegex(render.RenderError, 'format 1'):
            render.Results(['meta\tformat\t2\n'])
        with self.assertRaisesRegex(render.RenderError, 'no runs of psql on orders'):
            render.Report(render.Results(meta_lines(True, True)))

    def test_command_line(self):
        with tempfile.TemporaryDirectory() as tmp:
            src, out = os.path.join(tmp, 'results.tsv'), os.path.join(tmp, 'bench.md')
            with open(src, 'w', encoding='utf-8') as f:
                f.writelines(results())
            with redirect_stderr(io.StringIO()):
                self.assertEqual(render.main(['-o', out, src]), 0)
            with open(out, encoding='utf-8') as f:
                self.assertTrue(f.read().startswith('# pgpipe benchmarks\n'))
            self.assertEqual(sorted(os.listdir(tmp)), ['bench.md', 'results.tsv'])
            err = io.StringIO()
            with redirect_stderr(err):
                self.assertEqual(render.main([os.path.join(tmp, 'missing.tsv')]), 1)
            self.assertHas(err.getvalue(), 'missing.tsv: [Errno 2]')


if __name__ == '__main__':
    unittest.main()
