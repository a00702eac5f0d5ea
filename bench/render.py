#!/usr/bin/env python3
"""bench/render.py: the renderer of `make bench`: medians, ratios and docs/benchmarks.md from bench/run.sh's results file.

    bench/render.py [-o OUT] [RESULTS]

RESULTS defaults to $BUILD/bench/results.tsv (BUILD defaults to build); the
Markdown goes to OUT (written whole or not at all), or to stdout when OUT is
absent or "-".  It measures nothing, so a change of the report is rendered
again from the last results without a new run of the benchmark.
"""
import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The experiments' method ids start with these; every other method of a
# dataset is a row of the main table.
EXPERIMENTS = ('sweep-', 'cost-', 'idx-', 'con-', 'toast-', 'par-', 'jobs-')

LABELS = {
    'server': 'server COPY FROM file',
    'psql': r'psql \copy (text)',
    'pgcopy-text': 'pgcopy text',
    'pgcopy-csv': 'pgcopy CSV',
    'pgcopy-binary': 'pgcopy binary',
    'pgcopy-zstd': 'pgcopy zstd text',
    'pgcopy-fast': 'pgcopy --fast (text file as an argument)',
    'pggen-pgcopy': r'pggen \| pgcopy (text)',
    'pggen-binary-lz4': r'pggen -F binary \| pgcopy --toast-compression lz4',
    'pgrec-pgcopy': r'pgrec \| pgcopy (text)',
    'pgcopy-batches': 'pgcopy text, --batch-rows 100k',
    'pginsert-values': 'pginsert values (--batch 1000)',
    'pginsert-pipeline': 'pginsert pipeline (--batch 1000)',
    'pginsert-txn': 'pginsert txn',
    'pginsert-row': 'pginsert row',
    # index and constraint overhead
    'idx-pk-plain': 'orders (primary key): pgcopy',
    'idx-pk-defer': 'orders (primary key): pgcopy --defer-indexes',
    'idx-sec-plain': 'orders + index on customer_id: pgcopy',
    'idx-sec-defer': 'orders + index on customer_id: pgcopy --defer-indexes',
    'con-plain': 'users: pgcopy',
    'con-noemail': 'users without the email index: pgcopy',
    'con-defer-idx': 'users: pgcopy --defer-indexes',
    'con-defer-con': 'users: pgcopy --defer-constraints',
    'con-defer-both': 'users: pgcopy --defer-indexes --defer-constraints',
    # TOAST compression
    'toast-psql': r'psql \copy text (server default)',
    'toast-text-pglz': 'pgcopy text --toast-compression pglz',
    'toast-text-lz4': 'pgcopy text --toast-compression lz4',
    'toast-bin-pglz': 'pgcopy binary --toast-compression pglz',
    'toast-bin-lz4': 'pgcopy binary --toast-compression lz4',
    # batch-size sweep (sweep-values-B and sweep-copy-B: see label())
    'sweep-copy-one': 'pgcopy text, no --batch-rows',
    'cost-one': 'pgcopy text, one COPY',
    'cost-batches': 'pgcopy text, --batch-rows 100k',
    # parallel loads
    'par-j1': 'pgcopy --jobs 1',
    'par-j2': 'pgcopy --jobs 2',
    'par-j3': 'pgcopy --jobs 3',
    'par-j2-default': 'pgcopy --jobs 2, no --batch-rows (batches from the file size)',
    'par-fast': 'pgcopy --fast',
    'par-psql': r'psql \copy (text)',
    # --jobs 2 with default batches against one job (orders)
    'jobs-one': 'pgcopy, one job (no --jobs, no --batch-rows)',
    'jobs-two': 'pgcopy --jobs 2, no --batch-rows (batches from the file size)',
}

LIMIT_KIB = 16 * 1024      # the acceptance bound on streamed pgcopy's peak RSS


class RenderError(Exception):
    """A results file this renderer cannot read."""


def label(method):
    """The method's name in the report."""
    for prefix, text in (('sweep-values-', 'pginsert values --batch '),
                         ('sweep-copy-', 'pgcopy --batch-rows ')):
        if method.startswith(prefix) and method != 'sweep-copy-one':
            return text + method[len(prefix):]
    return LABELS[method]


def r4(x):
    """x rounded to 4 decimals, as the ratios have always been before they
    are shown or compared with a bound."""
    return float('%.4f' % x)


def fmt_mib(kib):
    """KiB as MiB with one decimal."""
    return '%.1f' % (kib / 1024)


def median(values):
    """The median of the numbers; of an even count, the mean of the middle
    two rounded to 4 decimals."""
    v = sorted(values)
    n = len(v)
    if n == 0:
        raise RenderError('no timed runs to take a median of')
    if n % 2:
        return v[n // 2]
    return r4((v[n // 2 - 1] + v[n // 2]) / 2)


class Results:
    """The parsed results file: the run's settings and every run, by
    (workload, method) in the order they were measured."""

    def __init__(self, lines):
        self.meta = {}
        self.runs = {}
        for no, line in enumerate(lines, 1):
            f = line.rstrip('\n').split('\t')
            if f[0] == 'meta' and len(f) == 3:
                self.meta[f[1]] = f[2]
            elif f[0] == 'run' and len(f) == 9:
                self.runs.setdefault((f[1], f[2]), []).append(f[3:])
            elif f[0] and not f[0].startswith('#'):
                raise RenderError('line %d: neither a meta nor a run record' % no)
        if self.get('format') != '1':
            raise RenderError('not a results file of format 1')

    def get(self, key):
        """The setting KEY, as written."""
        if key not in self.meta:
            raise RenderError('no setting %r' % key)
        return self.meta[key]

    def num(self, key):
        """The setting KEY as an integer."""
        return int(self.get(key))

    def of(self, ds, m):
        """Every run of METHOD on workload DS, warm-up (run 0) included."""
        if (ds, m) not in self.runs:
            raise RenderError('no runs of %s on %s' % (m, ds))
        return self.runs[ds, m]

    def has(self, ds, m):
        """Whether METHOD ran on workload DS."""
        return (ds, m) in self.runs

    def times(self, ds, m):
        """Seconds of the timed runs (not the warm-up), in run order."""
        return [float(r[1]) for r in self.of(ds, m) if int(r[0]) > 0]

    def median(self, ds, m):
        """Median seconds of the timed runs."""
        return median(self.times(ds, m))

    def rows(self, ds, m):
        """Rows one run of METHOD carries."""
        return int(self.of(ds, m)[0][2])

    def text_bytes(self, ds, m):
        """COPY text bytes one run of METHOD carries."""
        return int(self.of(ds, m)[0][3])

    def peak_rss(self, ds, m):
        """Largest peak RSS (KiB) over all runs, warm-up included, or None."""
        rss = [int(r[4]) for r in self.of(ds, m) if r[4] != '-']
        return max(rss) if rss else None

    def table_bytes(self, ds, m):
        """pg_total_relation_size after the last run."""
        return int(self.of(ds, m)[-1][5])

    def datasets(self):
        """The loaded datasets, in order."""
        return self.get('datasets').split()

    def methods(self, ds, prefix=None):
        """The methods of DS in measuring order: those starting with PREFIX,
        or without one the main table's (no experiment's prefix)."""
        ms = [m for (w, m) in self.runs if w == ds]
        if prefix is None:
            return [m for m in ms if not m.startswith(EXPERIMENTS)]
        return [m for m in ms if m.startswith(prefix)]

    def load_keys(self):
        """(dataset, method) of every load, sorted as the shell sorted them."""
        ds = set(self.datasets())
        return sorted((k for k in self.runs if k[0] in ds), key='\t'.join)


class Report:
    """Statistics over one results file, and the Markdown made of them."""

    def __init__(self, res):
        self.res = res
        self.ratio = {}     # (ds, m): rate over psql \copy's in the same rounds
        for ds in res.datasets():
            p = res.median(ds, 'psql')
            n = res.num('rows.' + ds)
            for m in res.methods(ds):
                rate = res.rows(ds, m) / res.median(ds, m)
                self.ratio[ds, m] = r4(rate / (n / p))

    def cells(self, ds, m, mbs=True):
        """"median s | rows/s | MB/s (text)" (without the MB/s unless MBS)."""
        t = self.res.median(ds, m)
        s = '%.3f | %.0f' % (t, self.res.rows(ds, m) / t)
        if mbs:
            s += ' | %.1f' % (self.res.text_bytes(ds, m) / t / 1e6)
        return s

    def speedup(self, ds, m, ref):
        """Time of REF over time of METHOD (same rows)."""
        return r4(self.res.median(ds, ref) / self.res.median(ds, m))

    def times_cell(self, ds, m, ref):
        """The speedup as "1.23×"."""
        return '%.2f×' % self.speedup(ds, m, ref)

    def runs_cell(self, ds, m):
        """The timed runs' seconds, "0.97, 0.96, 0.98"."""
        return ', '.join('%.2f' % t for t in self.res.times(ds, m))

    def rss_cell(self, ds, m):
        """Peak RSS in MiB, or – when there is no client."""
        k = self.res.peak_rss(ds, m)
        return '–' if k is None else fmt_mib(k)

    def markdown(self):
        """The whole of docs/benchmarks.md."""
        parts = [header(self.res), HOW_TO_READ.format(runs=self.res.get('runs')),
                 input_files(self.res), load_times(self), sweep(self),
                 index_overhead(self), toast(self), parallel(self), fast(self),
                 routed(self), generation(self.res), memory(self.res), acceptance(self)]
        return '\n'.join(parts)


HEADER = """\
# pgpipe benchmarks

Generated by `make bench` ({mode} mode{quick}) on
{date}, git commit `{commit}`. Do not edit by hand:
run `make bench` again to refresh it. The whole run took {elapsed_s} s.

- Machine: {nproc} CPUs ({cpu}), {mem_gib} GiB memory (`free -g`), {kernel};
  data files on {disk}. Clients, generators and the server share the CPUs, and
  other work may run on the machine at the same time
- Server: PostgreSQL {server_version}, a `pgsandbox` cluster on the same machine,
  clients connected over its Unix socket
- Server settings: {settings}
  ({durability_note})
- Clients: {psql_version}; {pgcopy_version}
"""


def header(res):
    """Title, when and where it was measured."""
    keys = ('mode', 'date', 'commit', 'elapsed_s', 'nproc', 'cpu', 'mem_gib', 'kernel',
            'disk', 'server_version', 'settings', 'psql_version', 'pgcopy_version')
    v = {k: res.get(k) for k in keys}
    v['quick'] = ', QUICK=1' if v['mode'] == 'quick' else ''
    v['pgcopy_version'] = v['pgcopy_version'] or 'pgcopy'
    # Results files from before --durable had the fast settings.
    durable = res.meta.get('durability') == 'stock'
    v['durability_note'] = (
        'stock durability, what users run: every commit waits for its WAL to reach the disk'
        if durable else
        'durability OFF: fsync, synchronous_commit and full_page_writes are off, so these '
        'ratios show the load path, not what a durable server does')
    return HEADER.format(**v)


HOW_TO_READ = """\
## How to read this

Each dataset is loaded by each method once to warm up, then {runs} more times
(in rounds: every method once per round, so drift on a shared machine hits
them alike); the table shows the median of the {runs} timed wall-clock times
(client start, connection and commit included). Before every load the table is emptied with
`TRUNCATE` and a `CHECKPOINT` is taken, both outside the timing. *rows/s* and
*MB/s* are derived from the median; MB/s is always the size of the dataset's
**uncompressed COPY text file** (10^6 bytes) divided by the time, whatever the
method actually read, so that it is comparable across methods. *× psql* is the
rate of the method (rows/s) divided by the rate of `psql \\copy` in the same rounds:
above 1 the method is faster than psql, below 1 slower. *Server COPY FROM file*
reads the text file inside the server with no client in the way: the usual ceiling
for text input. `pginsert txn` and `row` are too slow for the whole dataset:
where a row says *measured on N rows; rate extrapolated*, they loaded the first N
rows of the same file, its *median s* is the time for those N rows, and rows/s, MB/s
and × psql are that measured rate — no time for the whole dataset is claimed.
*Client peak RSS* is the largest peak resident set size of the loading client
over all runs of that row: pgcopy's and pginsert's own `peak_rss_kib` from
`--stats`, psql's from GNU time (`/usr/bin/time -f %M`); for a pipe it is the
loader's (pgcopy's), and server COPY has no client doing the work.
After every load the script checks the row count and that every index and
constraint of the table is back and valid.
Timings on a small shared machine vary by several per cent between runs.
"""

INPUT_PROSE = """
`orders(id bigserial primary key, customer_id int, amount numeric(12,4),
status varchar(32))`: customer_id = i % 10000, amount = (i % 500) + 0.99,
status 'completed' when i % 3 = 0 else 'pending'. `posts(id serial primary key,
title text, body text, payload text)`: repeat('title', 1764), repeat('body', 1764),
repeat('dummy data', 1764) — about 33 KB per row, TOASTed. The files are written
by the server itself (`COPY (SELECT …) TO STDOUT`). `users` and `roles` are
created by `pggen --ddl --preset`: users(id serial primary key, username unique,
email with an index, created_at timestamptz, role_id references roles(id)); the
{roles_n} roles are loaded once and only users is emptied between loads. The users
files are written by the server from a table filled by `pggen --preset users`,
the same rows `pggen | pgcopy` loads.
"""


def table(head, aligns, rows):
    """A Markdown table: the header cells, their alignment row, body lines."""
    return ['| %s |' % ' | '.join(head), '|%s|' % '|'.join(aligns)] + rows


def input_files(res):
    """The input files section."""
    fields = ('rows', 'text_bytes', 'csv_bytes', 'binary_bytes', 'zstd_bytes', 'slow_rows')
    rows = ['| %s | %s |' % (ds, ' | '.join(res.get(f + '.' + ds) for f in fields))
            for ds in res.datasets()]
    lines = ['## Input files', '']
    lines += table(('dataset', 'rows', 'text bytes', 'CSV bytes', 'binary bytes',
                    'zstd -3 text bytes', 'rows for txn, row'),
                   ('---',) + ('---:',) * 6, rows)
    return '\n'.join(lines) + '\n' + INPUT_PROSE.format(roles_n=res.get('roles_n'))


PGREC_PROSE = """\
pgrec \\| pgcopy: `pgrec --with-ids TABLE` turns JSON lines (one object per row,
written by the server from the loaded table with `row_to_json`) into a script
stream whose COPY lines name the columns, which `pgcopy TABLE` loads as it is.
"""


def load_times(rep):
    """The main table: every method on every dataset against psql \\copy."""
    res = rep.res
    rows = []
    for ds in res.datasets():
        nrows = res.num('rows.' + ds)
        for m in res.methods(ds):
            name = label(m)
            if res.rows(ds, m) < nrows:
                name += ' — measured on %d rows; rate extrapolated' % res.rows(ds, m)
            rows.append('| %s | %s | %s | %.2f× | %s | %s |' % (
                ds, name, rep.cells(ds, m), rep.ratio[ds, m], rep.rss_cell(ds, m),
                rep.runs_cell(ds, m)))
    lines = ['## Load times', '']
    lines += table(('dataset', 'method', 'median s', 'rows/s', 'MB/s (text)', '× psql',
                    'client peak RSS MiB', 'runs (s)'),
                   ('---', '---') + ('---:',) * 5 + ('---',), rows)
    lines.append('')
    if res.get('have_pgrec'):
        return '\n'.join(lines) + '\n' + PGREC_PROSE
    lines.append(r'pgrec \| pgcopy: not built yet (no `%s`), so it has no rows here.'
                 % res.get('pgrec_path'))
    return '\n'.join(lines) + '\n'


SWEEP_PROSE = """\
## Batch-size sweep

orders, {rows} rows: `pginsert --strategy values --batch B` (B rows per
INSERT statement, one transaction) against `pgcopy --batch-rows B` (a commit every
B rows). Warm-up, then median of {exp_runs}, interleaved like the table above.
"""

COST_PROSE = """
The cost of batches on their own: one COPY against `--batch-rows 100k`, {cost_runs}
interleaved runs each after a warm-up (the acceptance row below uses these).
"""


def sweep(rep):
    """The batch-size sweep and the cost of batches."""
    res = rep.res
    rows = []
    for b in res.get('sweep').split():
        v, c = 'sweep-values-' + b, 'sweep-copy-' + b
        rows.append('| %s | %s | %s | %s | %s |' % (
            b, rep.cells('orders', v, False), rep.rss_cell('orders', v),
            rep.cells('orders', c, False), rep.rss_cell('orders', c)))
    rows.append('| pgcopy without --batch-rows | | | | %s | %s |' % (
        rep.cells('orders', 'sweep-copy-one', False), rep.rss_cell('orders', 'sweep-copy-one')))
    lines = table(('B', 'pginsert values: median s', 'rows/s', 'peak RSS MiB',
                   'pgcopy --batch-rows: median s', 'rows/s', 'peak RSS MiB'),
                  ('---:',) * 7, rows)
    cost = ['| %s | %s | %s | %s |' % (label(m), rep.cells('orders', m),
                                       rep.times_cell('orders', m, 'cost-one'),
                                       rep.runs_cell('orders', m))
            for m in ('cost-one', 'cost-batches')]
    lines += COST_PROSE.format(cost_runs=res.get('cost_runs')).split('\n')
    lines += table(('method', 'median s', 'rows/s', 'MB/s (text)', '× one COPY', 'runs (s)'),
                   ('---',) + ('---:',) * 4 + ('---',), cost)
    prose = SWEEP_PROSE.format(rows=res.get('rows.orders'), exp_runs=res.get('exp_runs'))
    return prose + '\n' + '\n'.join(lines) + '\n'


INDEX_PROSE = """\
## Index and constraint overhead

pgcopy text, whole dataset; *× plain* is the time of a plain pgcopy into the same
table divided by this row's time (measured in the same rounds). `--defer-indexes`
drops the table's indexes and rebuilds them after the load, `--defer-constraints`
drops its foreign keys and re-adds (validates) them after, both in the load's
transaction. Warm-up, then median of {exp_runs}.
"""

INDEX_ROWS = (('orders', 'idx-pk-plain', 'idx-pk-plain'), ('orders', 'idx-pk-defer', 'idx-pk-plain'),
              ('orders', 'idx-sec-plain', 'idx-sec-plain'), ('orders', 'idx-sec-defer', 'idx-sec-plain'),
              ('users', 'con-plain', 'con-plain'), ('users', 'con-defer-idx', 'con-plain'),
              ('users', 'con-defer-con', 'con-plain'), ('users', 'con-defer-both', 'con-plain'),
              ('users', 'con-noemail', 'con-plain'))

INDEX_COST = """
A plain load into orders with the secondary index on customer_id takes {sec:.2f}× the
time it takes with the primary key only; into users with its email index, {email:.2f}×
the time without it (a ratio within a few per cent of 1.0 is noise).
"""


def index_overhead(rep):
    """Deferred indexes and constraints against plain loads."""
    res = rep.res
    rows = ['| %s | %s | %s | %s | %s |' % (ds, label(m), rep.cells(ds, m),
                                            rep.times_cell(ds, m, ref), rep.runs_cell(ds, m))
            for ds, m, ref in INDEX_ROWS]
    lines = table(('dataset', 'table and method', 'median s', 'rows/s', 'MB/s (text)',
                   '× plain', 'runs (s)'), ('---', '---') + ('---:',) * 4 + ('---',), rows)
    cost = INDEX_COST.format(
        sec=res.median('orders', 'idx-sec-plain') / res.median('orders', 'idx-pk-plain'),
        email=res.median('users', 'con-plain') / res.median('users', 'con-noemail'))
    return (INDEX_PROSE.format(exp_runs=res.get('exp_runs')) + '\n' + '\n'.join(lines)
            + '\n' + cost)


TOAST_PROSE = """\
## TOAST compression (posts)

posts, {rows} rows of about 33 KB, each column TOASTed and compressed.
`--toast-compression` sets `default_toast_compression` for the load's session
(the server's default is {toast_default}). *× psql* is against `psql \\copy` of the
text file in the same rounds; *table MiB* is `pg_total_relation_size` after the
load. Warm-up, then median of {exp_runs}.
"""


def toast(rep):
    """pglz against lz4 on posts."""
    res = rep.res
    rows = ['| %s | %s | %s | %.1f | %s |' % (
        label(m), rep.cells('posts', m), rep.times_cell('posts', m, 'toast-psql'),
        res.table_bytes('posts', m) / 1048576, rep.runs_cell('posts', m))
        for m in res.methods('posts', 'toast-')]
    lines = table(('method', 'median s', 'rows/s', 'MB/s (text)', '× psql', 'table MiB',
                   'runs (s)'), ('---',) + ('---:',) * 5 + ('---',), rows)
    prose = TOAST_PROSE.format(rows=res.get('rows.posts'), exp_runs=res.get('exp_runs'),
                               toast_default=res.get('toast_default'))
    return prose + '\n' + '\n'.join(lines) + '\n'


PARALLEL_PROSE = """\
## Parallel loads (--jobs)

users, {rows} rows written by `pggen --preset users` (a primary key, a unique
username, an index on email and a foreign key to roles), loaded by pgcopy in batches
of {batch} rows (`--batch-rows`) over 1, 2 and 3 connections.{more}
*× --jobs 1* is the time with one job divided by this row's time, in the same rounds.
The machine has {nproc} cores.
Warm-up, then median of {exp_runs}.
"""

PARALLEL_MORE = """ The same file is also loaded by
`pgcopy --jobs 2` with no `--batch-rows` (pgcopy cuts about four batches per job from
the file's size), by `pgcopy --fast` and by `psql \\copy`, in the same rounds."""


def parallel(rep):
    """pgcopy --jobs 1, 2 and 3 on users."""
    res = rep.res
    rows = ['| %s | %s | %s | %s | %s |' % (
        label(m), rep.cells('users', m), rep.times_cell('users', m, 'par-j1'),
        rep.rss_cell('users', m), rep.runs_cell('users', m))
        for m in res.methods('users', 'par-')]
    lines = table(('method', 'median s', 'rows/s', 'MB/s (text)', '× --jobs 1', 'peak RSS MiB',
                   'runs (s)'), ('---',) + ('---:',) * 5 + ('---',), rows)
    more = PARALLEL_MORE if res.has('users', 'par-j2-default') else ''
    prose = PARALLEL_PROSE.format(rows=res.rows('users', 'par-j1'), batch=res.get('par_batch'),
                                  more=more, nproc=res.get('nproc'),
                                  exp_runs=res.get('exp_runs'))
    return prose + '\n' + '\n'.join(lines) + '\n'


FAST_HEAD = '## pgcopy --fast and --jobs without a batch size\n\n'

FAST_PROSE = """\
`pgcopy --fast TABLE FILE` chooses its own plan: jobs from the server's cores,
the table's indexes and constraints deferred (and put back crash-safely), ids
reserved by block, text rows sent as COPY binary, lz4 TOAST compression; what it
chose (the `plan` of its `--stats`) is listed under the table. The text file is
given as an argument, so that pgcopy knows its size. *× psql* is the median time
of `psql \\copy` of the same text file divided by pgcopy's, in the same rounds:
the datasets' rows are from the table above, *{par_row}* from the parallel
loads ({par}). Every load was checked afterwards: row count, every index and
constraint back and valid.
"""

JOBS_PROSE = """
`pgcopy --jobs 2 FILE` with no `--batch-rows` cuts about four batches per job
from the file's size. On orders it is compared with one job (`pgcopy orders FILE`,
one COPY); on the file of the parallel loads ({par}), with `--jobs 1
--batch-rows {batch}`.
*×* is the reference's median time divided by `--jobs 2`'s, in the same rounds.
Warm-up, then median of {exp_runs}.
"""

NOT_MEASURED = 'Not measured in this run (its results file predates these methods).'


def par_name(res):
    """The users file of the parallel loads, by its rows."""
    if res.has('users', 'par-j1'):
        return 'users, %d rows' % res.rows('users', 'par-j1')
    return 'users (the file of the --jobs experiment)'


def plan_lines(res, fast_rows_):
    """The plans --fast chose, each once, with the loads that chose it."""
    plans = {}
    for name, ds, m, _ in fast_rows_:
        plan = res.meta.get('fast_plan.%s.%s' % (ds, m))
        if plan:
            plans.setdefault(plan, []).append(name)
    return ['- %s: %s' % (', '.join(names), plan) for plan, names in plans.items()]


PAR_ROW = 'users (the --jobs file)'     # the parallel loads' file, in a table


def fast_rows(res):
    """(name, workload, --fast method, psql method) of every --fast load measured."""
    rows = [(ds, ds, 'pgcopy-fast', 'psql') for ds in res.datasets()
            if res.has(ds, 'pgcopy-fast')]
    if res.has('users', 'par-fast') and res.has('users', 'par-psql'):
        rows.append((PAR_ROW, 'users', 'par-fast', 'par-psql'))
    return rows


def jobs_rows(res):
    """(name, workload, --jobs 2 method, reference, its label) of the
    default-batch loads measured."""
    rows = []
    if res.has('orders', 'jobs-two') and res.has('orders', 'jobs-one'):
        rows.append(('orders', 'orders', 'jobs-two', 'jobs-one', label('jobs-one')))
    if res.has('users', 'par-j2-default') and res.has('users', 'par-j1'):
        rows.append((PAR_ROW, 'users', 'par-j2-default', 'par-j1',
                     'pgcopy --jobs 1 --batch-rows %s' % res.get('par_batch')))
    return rows


def fast(rep):
    """pgcopy --fast against psql \\copy, and --jobs 2 with default batches."""
    res = rep.res
    if not fast_rows(res) and not jobs_rows(res):
        return FAST_HEAD + NOT_MEASURED + '\n'
    fr = fast_rows(res)
    rows = ['| %s | %d | %.3f | %.3f | %s | %s | %s |' % (
        name, res.rows(ds, m), res.median(ds, ref), res.median(ds, m),
        rep.times_cell(ds, m, ref), rep.rss_cell(ds, m), rep.runs_cell(ds, m))
        for name, ds, m, ref in fr]
    lines = table(('dataset', 'rows', r'psql \copy median s', 'pgcopy --fast median s',
                   '× psql', 'peak RSS MiB', '--fast runs (s)'),
                  ('---',) + ('---:',) * 5 + ('---',), rows) if rows else [NOT_MEASURED]
    plans = plan_lines(res, fr)
    if plans:
        lines += ['', 'What --fast chose:', ''] + plans
    rows = ['| %s | %d | %s | %.3f | %.3f | %s | %s |' % (
        name, res.rows(ds, m), ref_label, res.median(ds, ref), res.median(ds, m),
        rep.times_cell(ds, m, ref), rep.runs_cell(ds, m))
        for name, ds, m, ref, ref_label in jobs_rows(res)]
    lines += JOBS_PROSE.format(par=par_name(res), batch=res.get('par_batch'),
                               exp_runs=res.get('exp_runs')).split('\n')
    lines += table(('dataset', 'rows', 'reference', 'its median s', '--jobs 2 median s', '×',
                    '--jobs 2 runs (s)'), ('---', '---:', '---') + ('---:',) * 3 + ('---',),
                   rows) if rows else [NOT_MEASURED]
    prose = FAST_HEAD + FAST_PROSE.format(par=par_name(res), par_row=PAR_ROW)
    return prose + '\n' + '\n'.join(lines) + '\n'


GENERATION_PROSE = """\
## Generation

{rows} orders rows written to /dev/null, median of {runs} after a warm-up: pggen on one
core against the server's own `COPY (SELECT … generate_series …) TO STDOUT` of the same rows.
"""


def generation(res):
    """pggen against the server generating the same rows."""
    n = res.rows('generate', 'pggen')
    a, b = res.median('generate', 'pggen'), res.median('generate', 'server')
    lines = table(('generator', 'median s', 'rows/s'), ('---', '---:', '---:'),
                  ['| pggen --preset orders | %.3f | %.0f |' % (a, n / a),
                   '| server COPY (SELECT …) TO STDOUT | %.3f | %.0f |' % (b, n / b)])
    prose = GENERATION_PROSE.format(rows=n, runs=res.get('runs'))
    return prose + '\n' + '\n'.join(lines) + '\n'


MEMORY_PROSE = """\
{rows} orders rows generated by pggen and piped straight into pgcopy
(`pggen --preset orders -n {rows} | pgcopy orders`),
one run into an empty table:

| rows | seconds (generator + load) | rows/s | pgcopy peak RSS MiB |
|---:|---:|---:|---:|
| {rows} | {secs:.2f} | {rate:.0f} | {mib:.1f} |

For comparison, pgcopy's peak RSS on the {small_rows}-row orders file was
{small} MiB: memory does not grow with the number of rows.
"""


def memory(res):
    """The 10M-row pipe, or why there is none."""
    lines = '## Memory on a large stream\n\n'
    if not res.has('stream', 'pggen-pgcopy'):
        return lines + ('Not run in quick mode (QUICK=1); `make bench` loads %d rows here.\n'
                        % 10000000)
    run = res.of('stream', 'pggen-pgcopy')[0]
    n, secs, kib = int(run[2]), float(run[1]), int(run[4])
    return lines + MEMORY_PROSE.format(
        rows=n, secs=secs, rate=n / secs, mib=kib / 1024, small_rows=res.get('rows.orders'),
        small=fmt_mib(res.peak_rss('orders', 'pgcopy-text')))


ACCEPTANCE_PROSE = """\
## Acceptance

Computed from the measurements above. A speed check passes when the unrounded
ratio of medians is at least the bound (1.000 unless the check says otherwise).
In this run the timed runs of one method
differed by typically {typical}%, at most {most}% (slowest / fastest), so a ratio within a few
per cent of the bound is a tie within noise rather than a real difference.
Every ratio compares two methods measured in the same rounds of this run.

| check | measured | result |
|---|---:|---|
"""


def spread(res):
    """(typical, largest) spread of one method's timed runs, slowest over
    fastest less one, in per cent with one decimal."""
    pct = sorted(('%.1f' % ((max(t) / min(t) - 1) * 100)
                  for t in (res.times(*k) for k in res.load_keys())), key=float)
    return pct[(len(pct) + 1) // 2 - 1], pct[-1]


def verdict(ok):
    """PASS or FAIL."""
    return 'PASS' if ok else 'FAIL'


def check(text, measured, ok):
    """One acceptance line."""
    return '| %s | %s | %s |' % (text, measured, verdict(ok))


def check_ratio(text, r, bound):
    """One acceptance line for a ratio with a lower bound."""
    return check(text, '%.3f×' % r, r >= bound)


def acceptance(rep):
    """Every check of the issue's acceptance criteria, with its verdict."""
    typical, most = spread(rep.res)
    lines = (speed_checks(rep) + rss_checks(rep.res) + pgrec_checks(rep.res)
             + [orm_line(rep.res)] + lever_checks(rep) + fast_checks(rep) + [kill_line(rep.res)]
             + routed_checks(rep))
    return ACCEPTANCE_PROSE.format(typical=typical, most=most) + '\n'.join(lines) + '\n'


def speed_checks(rep):
    """pgcopy against psql, pggen alone and in a pipe, the cost of batches."""
    res = rep.res
    lines = [check_ratio(r'%s: %s ≥ 1.0× psql \copy' % (ds, label(m)), rep.ratio[ds, m], 1.0)
             for ds, m in (('orders', 'pgcopy-text'), ('posts', 'pgcopy-text'),
                           ('posts', 'pgcopy-binary'))]
    n = res.rows('generate', 'pggen')
    a, b = res.median('generate', 'pggen'), res.median('generate', 'server')
    lines.append(check('pggen orders text to /dev/null ≥ 5M rows/s on one core',
                       '%.2fM rows/s' % (n / a / 1e6), n / a >= 5e6))
    lines.append(check("pggen ≥ 2× the server's COPY (SELECT … generate_series …) TO STDOUT",
                       '%.2f×' % (b / a), b / a >= 2))
    for ds in res.datasets():
        r = res.median(ds, 'pgcopy-text') / res.median(ds, 'pggen-pgcopy')
        lines.append(check_ratio(r'%s: pggen \| pgcopy ≥ 0.95× pgcopy from a pre-written file'
                                 % ds, r, 0.95))
    r = res.median('orders', 'cost-one') / res.median('orders', 'cost-batches')
    lines.append(check_ratio('orders: --batch-rows 100k costs ≤ 5%% against one COPY '
                             '(≥ 0.95×; median of %s)' % res.get('cost_runs'), r, 0.95))
    return lines


def loader(m):
    """The program that talks to the server in METHOD."""
    if m.startswith(('pginsert-', 'sweep-values-')):
        return 'pginsert'
    return 'psql' if m in ('server', 'psql', 'toast-psql', 'par-psql') else 'pgcopy'


def batched(m):
    """Whether METHOD loads in batches (which hold up to jobs + 2 of them by design)."""
    return (m in ('pgcopy-batches', 'cost-batches', 'pgcopy-fast', 'jobs-two')
            or m.startswith('par-')
            or (m.startswith('sweep-copy-') and m != 'sweep-copy-one'))


def rss_checks(res):
    """pgcopy's memory: flat when streamed; batches reported apart."""
    streamed, batches = [], []
    for ds, m in res.load_keys():
        if loader(m) == 'pgcopy':
            k = res.peak_rss(ds, m)
            (batches if batched(m) else streamed).append((k, '%s %s' % (ds, label(m))))
    scope = 'every streamed pgcopy run (experiments included)'
    if res.has('stream', 'pggen-pgcopy'):
        run = res.of('stream', 'pggen-pgcopy')[0]
        streamed.append((int(run[4]), 'orders %s rows via pipe' % run[2]))
        scope += ', the %s-row pipe included' % run[2]
    else:
        scope += ' (quick mode: the 10M-row run was skipped)'
    # The first of the largest, as the shell's strict ">" scan picked it.
    k, worst = max(streamed, key=lambda e: e[0], default=(0, ''))
    bk, bworst = max(batches, key=lambda e: e[0], default=(0, ''))
    return [check('pgcopy peak RSS ≤ 16 MiB in ' + scope,
                  '%s MiB max (%s)' % (fmt_mib(k), worst), k <= LIMIT_KIB),
            '| (information) batched pgcopy runs hold at most jobs + 2 batches: peak RSS '
            '| %s MiB max (%s) | – |' % (fmt_mib(bk), bworst)]


def pgrec_checks(res):
    """pgrec's own speed and pgrec | pgcopy against a pre-made file."""
    if not res.has('convert', 'pgrec'):
        return []
    rate = float('%.0f' % (res.rows('convert', 'pgrec') / res.median('convert', 'pgrec')))
    r = res.median('orders', 'pgcopy-text') / res.median('orders', 'pgrec-pgcopy')
    return [check('pgrec JSON → text ≥ 1M records/s on one core (orders shape)',
                  '%.2fM records/s' % (rate / 1e6), rate >= 1e6),
            check_ratio(r'orders: pgrec \| pgcopy ≥ 0.9× pgcopy from a pre-made TSV', r, 0.9)]


def orm_line(res):
    """The Python routes of the seeds, which are not measured."""
    why = ('installed, but not scripted yet' if res.get('python_orm') == '1'
           else 'not both installed here')
    return ('| Python routes of the seeds (SQLAlchemy ORM add_all, bulk_insert_mappings, '
            'Core executemany) | not measured: needs python3-sqlalchemy and python3-psycopg2, '
            '%s | – |' % why)


def rank_check(rep, ds):
    """pginsert row < txn < min(pipeline, values) < pgcopy text, by measured rate."""
    r = {m: rep.ratio[ds, 'pginsert-' + m] for m in ('row', 'txn', 'pipeline', 'values')}
    r['copy'] = rep.ratio[ds, 'pgcopy-text']
    lo = min(r['pipeline'], r['values'])
    slow = rep.res.num('slow_rows.' + ds)
    note = (' (row, txn: rates on %d rows)' % slow
            if slow < rep.res.num('rows.' + ds) else '')
    measured = ('row %.3f× < txn %.3f× < min(pipeline %.3f×, values %.3f×) < pgcopy %.3f× '
                r'(× psql \copy)' % (r['row'], r['txn'], r['pipeline'], r['values'], r['copy']))
    return check('%s: pginsert row < txn < min(pipeline, values) < pgcopy text, by rate%s'
                 % (ds, note), measured, r['row'] < r['txn'] < lo < r['copy'])


def lever_checks(rep):
    """TOAST compression, deferred indexes and constraints, the strategies, --jobs."""
    lines = [
        check_ratio(r'posts: `pggen --preset posts -F binary \| pgcopy --toast-compression lz4 '
                    r'posts` ≥ 5× psql \copy of the text file',
                    rep.ratio['posts', 'pggen-binary-lz4'], 5),
        check_ratio('orders (primary key): pgcopy --defer-indexes ≥ 1.4× a plain pgcopy',
                    rep.speedup('orders', 'idx-pk-defer', 'idx-pk-plain'), 1.4),
        check_ratio('users (primary key, unique username, email index, foreign key): '
                    'pgcopy --defer-indexes --defer-constraints ≥ 1.5× a plain pgcopy',
                    rep.speedup('users', 'con-defer-both', 'con-plain'), 1.5)]
    lines += [rank_check(rep, ds) for ds in rep.res.datasets()]
    lines.append(check_ratio('users (unique indexes, foreign key), %d rows: pgcopy --jobs 2 '
                             '≥ 1.4× --jobs 1' % rep.res.rows('users', 'par-j1'),
                             rep.speedup('users', 'par-j2', 'par-j1'), 1.4))
    return lines


def ratio_check(rep, text, ds, m, ref, bound):
    """check_ratio of REF's median time over METHOD's on DS, or a line saying
    the run did not measure them (results files from before they existed)."""
    if not (rep.res.has(ds, m) and rep.res.has(ds, ref)):
        return '| %s | not measured in this run | – |' % text
    return check_ratio(text, rep.speedup(ds, m, ref), bound)


def kill_line(res):
    """bench/kill_check.sh's verdict: kill -9 during --fast --resume-key loads, then a rerun."""
    text = ('kill -9 at random points of a `pgcopy --fast --resume-key` load of users '
            '(during the load and the index rebuild), then the same command: the table equals '
            'the input, every index and constraint back and valid')
    verdict = res.meta.get('kill_check')
    if not verdict:
        return '| %s | not measured in this run | – |' % text
    word, _, what = verdict.partition(' ')
    return check(text, what, word == 'PASS')


def fast_checks(rep):
    """pgcopy --fast against psql \\copy, --jobs 2 with the batches it cuts itself."""
    par = par_name(rep.res)
    return [
        ratio_check(rep, r'orders: `pgcopy --fast` ≥ 1.8× psql \copy', 'orders', 'pgcopy-fast',
                    'psql', 1.8),
        ratio_check(rep, r'%s: `pgcopy --fast` ≥ 2.5× psql \copy' % par, 'users', 'par-fast',
                    'par-psql', 2.5),
        ratio_check(rep, '%s: `pgcopy --jobs 2` with default batches ≥ 1.4× --jobs 1 '
                    '--batch-rows %s' % (par, rep.res.get('par_batch')),
                    'users', 'par-j2-default', 'par-j1', 1.4),
        ratio_check(rep, 'orders: `pgcopy --jobs 2` with default batches ≥ 1.0× one job',
                    'orders', 'jobs-two', 'jobs-one', 1.0),
        ratio_check(rep, r'posts: `pgcopy --fast` from the text file ≥ 4× psql \copy', 'posts',
                    'pgcopy-fast', 'psql', 4)]


ROUTED_HEAD = '## Routed loads: a table partitioned over three postgres_fdw servers\n\n'

ROUTED_PROSE = """\
orders rows into `orders_all`, partitioned by id over three foreign
partitions, each on a durable `pgsandbox` server of its own on this machine
(one remote table with a primary key each), against the same rows into one
local table with the same primary key (*local*), and against the COPY
streamed through the parent (`--no-route`: PostgreSQL 15 sends each row
bound for a foreign partition as one remote INSERT). *routed* is `pgcopy
TABLE FILE`, which sends each row straight to its server (one loader, a
connection to each server, a batch's parts sent to all three at once);
*routed --jobs 2* is two such loaders. TRUNCATE and CHECKPOINT on every server before each load, untimed;
warm-up, then local, routed and routed --jobs 2 interleaved, median of {runs}; the streamed
load once (it takes a minute). *speed × local* is local's median time over
the method's; *× streamed*, the streamed time over the method's.
"""


def routed(rep):
    """Routed loads against a local table and the COPY through the parent."""
    res = rep.res
    if not res.has('routed_range', 'routed'):
        return ROUTED_HEAD + NOT_MEASURED + '\n'
    rows = []
    for ds in ('routed_range', 'routed_hash'):
        for m in ('local', 'routed', 'routed_jobs2', 'streamed'):
            if not res.has(ds, m):
                continue
            rows.append('| %s | %s | %s | %s | %s | %s |' % (
                ds.split('_')[1], m.replace('_jobs2', ' --jobs 2'), rep.cells(ds, m, mbs=False), rep.times_cell(ds, m, 'local'),
                rep.times_cell(ds, m, 'streamed'), rep.runs_cell(ds, m)))
    lines = table(('partitioning', 'method', 'median s', 'rows/s', 'speed × local', '× streamed',
                   'runs (s)'), ('---', '---') + ('---:',) * 4 + ('---',), rows)
    return (ROUTED_HEAD + ROUTED_PROSE.format(runs=res.get('runs')) + '\n' + '\n'.join(lines) + '\n\n'
            + 'Checks: ' + res.meta.get('routed_check', 'not run') + '.\n')


def routed_checks(rep):
    """The routed loads' acceptance lines."""
    res = rep.res
    lines = []
    for ds, what in (('routed_range', 'range'), ('routed_hash', 'hash (modulus 3)')):
        n = '%s rows' % format(res.rows(ds, 'routed'), ',') if res.has(ds, 'routed') else 'rows'
        lines.append(ratio_check(rep, '%s, %s over 3 foreign partitions: routed ≥ 0.8× the speed of one local table'
                                 % (what, n), ds, 'routed', 'local', 0.8))
        lines.append(ratio_check(rep, '%s, %s: routed ≥ 10× the COPY streamed through the parent' % (what, n),
                                 ds, 'routed', 'streamed', 10))
        if res.has(ds, 'routed_jobs2'):
            lines.append(ratio_check(rep, '%s, %s: routed `--jobs 2` faster than one loader' % (what, n),
                                     ds, 'routed_jobs2', 'routed', 1.0))
    for key, text in (('routed_check', 'each shard holds exactly its rows (hash: every row by '
                       '`satisfies_hash_partition`), the whole equals the input'),
                      ('routed_kill', 'kill -9 during a routed `--resume-key` load, then the same command')):
        verdict = res.meta.get(key)
        if not verdict:
            lines.append('| %s | not measured in this run | – |' % text)
        else:
            word, _, what = verdict.partition(' ')
            lines.append(check(text, what, word == 'PASS'))
    return lines


def write(text, out):
    """TEXT to stdout, or to the file OUT whole or not at all."""
    if out in (None, '-'):
        sys.stdout.write(text)
        return
    tmp = '%s.tmp.%d' % (out, os.getpid())
    try:
        with open(tmp, 'w', encoding='utf-8') as f:
            f.write(text)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    print('bench: wrote %s' % out, file=sys.stderr)


def main(argv):
    """Parse the command line, render, write."""
    build = os.environ.get('BUILD') or 'build'
    ap = argparse.ArgumentParser(prog='bench/render.py',
                                 description='Render docs/benchmarks.md from bench/run.sh results.')
    ap.add_argument('results', nargs='?',
                    default=os.path.join(ROOT, build, 'bench', 'results.tsv'),
                    help='the results file (default $BUILD/bench/results.tsv)')
    ap.add_argument('-o', '--output', metavar='OUT',
                    help='write the Markdown to OUT (default: stdout)')
    args = ap.parse_args(argv)
    try:
        with open(args.results, encoding='utf-8') as f:
            text = Report(Results(f)).markdown()
    except (OSError, RenderError) as e:
        print('bench/render.py: %s: %s' % (args.results, e), file=sys.stderr)
        return 1
    write(text, args.output)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
