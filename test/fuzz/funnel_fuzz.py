#!/usr/bin/env python3
"""Differential fuzzer of the funnel index: random tables and index options,
random interleavings of writes, and after every step the index's answers
checked against the table read without it.

Each case draws a configuration (dims, typmod or not, opclass, precision,
coarse_dims, lists, row shape, NULL and duplicate rows) and a series of
steps (INSERT, UPDATE, DELETE, rolled-back inserts and updates, rows of
another dimension count rolled back or deleted, delete-all-and-refill
churn, VACUUM, VACUUM FULL, REINDEX).  After each step funnel_fuzz_check()
(test/funnel/funnel_fuzz.sql) compares exact-mode scans with the table read
without the index and checks approximate-mode scans, and the index's size
is held to a bound of the heap's.  Everything is drawn from (seed, case
number), so a case replays exactly: --print-sql writes its SQL up to a step.

A case runs as one psql script (PGHOST, PGPORT, PGDATABASE... pick the
server); the database needs the mrl extension, funnel_check.sql and
funnel_fuzz.sql.  Prints TAP: one line per property, "not ok" naming the
first failing case and step, with its SQL and how to replay it.
"""
import argparse
import math
import os
import random
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OPERATORS = {'mvector_l2_ops': '<->', 'mvector_ip_ops': '<#>', 'mvector_cosine_ops': '<=>'}

# (kind, property) in TAP order: the kinds funnel_fuzz_check() reports,
# plus "step" (a write failed) and "size".
PROPERTIES = [
    ('step', "every step's SQL runs without error"),
    ('plan', 'the planner uses the funnel index for ORDER BY <op> LIMIT'),
    ('error', 'index scans raise no error, in exact or approximate mode'),
    ('rows', 'exact mode returns the rows a sequential scan returns, NULL vectors last'),
    ('order', 'exact mode returns the distances of a sequential scan, in order'),
    ('approx_rows', 'approximate mode returns distinct live rows at their true distances, at most the LIMIT'),
    ('approx_order', 'approximate mode returns its rows sorted by distance'),
    ('approx_all', 'approximate mode with no LIMIT (in relaxed order where there is one) returns '
     'every row with a vector'),
    ('size', "the index stays within a bound of the heap's size"),
]

# Step kinds and their weights.
STEP_WEIGHTS = {
    'insert': 14, 'insert_null': 2, 'insert_duplicates': 3, 'insert_rollback': 3,
    'update_vectors': 4, 'update_null': 2, 'update_scale': 2, 'update_same': 2, 'update_rollback': 1,
    'delete': 6, 'churn': 5, 'other_dim_rollback': 4, 'other_dim_savepoint': 2, 'other_dim_dead': 3,
    'vacuum': 6, 'vacuum_full': 1, 'reindex': 2,
}


class Case:
    """One table and its index: the configuration and the random steps."""

    def __init__(self, seed, number):
        r = self.rng = random.Random('funnel_fuzz/%s/%s' % (seed, number))
        self.number = number
        self.dim = r.choice([r.randint(1, 8)] * 7 + [r.randint(9, 48)] * 9 + [r.randint(49, 200)] * 4)
        self.typmod = r.random() < 0.5
        self.opclass = r.choice(sorted(OPERATORS))
        self.op = OPERATORS[self.opclass]
        self.precision = r.choice([None, 'float4', 'int8', 'binary'])
        if self.dim >= 64 and r.random() < 0.3:
            self.coarse = None  # the default, 64
        else:
            self.coarse = r.choice([r.randint(1, min(self.dim, 4)), r.randint(1, min(self.dim, 96)),
                                    min(self.dim, 96)])
        self.lists = r.choice([None, 0, 1, r.randint(2, 8), r.randint(9, 64)])
        self.shape = r.choice(['clustered', 'clustered', 'uniform', 'grid'])
        self.centres = r.randint(1, 10 ** 6)
        self.rows = r.choice([0, r.randint(1, 20), r.randint(20, 300), r.randint(300, 1500)])
        self.null_every = r.choice([0, 0, 5, 17])
        self.duplicates = r.random() < 0.3
        self.index_first = r.random() < 0.25
        self.concurrently = r.random() < 0.15
        self.steps = r.randint(10, 40)
        self.next_id = 2 * self.rows + 1 if self.duplicates else self.rows + 1
        self.min_dim = self.dim  # fewest dims of a row inserted so far

    def describe(self):
        return ('dim %d, column mvector%s, %s, %s, %d %s rows%s%s, index %s%s' %
                (self.dim, '(%d)' % self.dim if self.typmod else '', self.opclass,
                 self.index_options() or 'default options', self.rows, self.shape,
                 ', NULL every %d' % self.null_every if self.null_every else '',
                 ', duplicates' if self.duplicates else '',
                 'before the rows' if self.index_first else 'after the rows',
                 ', CONCURRENTLY' if self.concurrently else ''))

    def index_options(self):
        opts = []
        if self.coarse is not None:
            opts.append('coarse_dims = %d' % self.coarse)
        if self.precision is not None:
            opts.append('precision = %s' % self.precision)
        if self.lists is not None:
            opts.append('lists = %d' % self.lists)
        return ', '.join(opts)

    def vectors(self, n, first_id, dim=None, shape=None):
        """SQL of n rows with ids first_id.., from a fresh noise seed."""
        return 'funnel_fuzz_vectors(%d, %d, %s, %d, %d, %d)' % (
            n, dim or self.dim, "'%s'" % (shape or self.shape), self.centres,
            self.rng.randint(1, 10 ** 6), first_id)

    def take_ids(self, n):
        first = self.next_id
        self.next_id += n
        return first

    def setup(self):
        """Step 0: the table, its rows and its index, as statements."""
        typ = '(%d)' % self.dim if self.typmod else ''
        table = ['DROP TABLE IF EXISTS fz;',
                 'CREATE TABLE fz (id int, emb mvector%s) WITH (autovacuum_enabled = off);' % typ]
        load = []
        if self.rows:
            load.append('INSERT INTO fz SELECT * FROM %s;' % self.vectors(self.rows, 1))
        if self.null_every:
            load.append('UPDATE fz SET emb = NULL WHERE id %% %d = 0;' % self.null_every)
        if self.duplicates:
            load.append('INSERT INTO fz SELECT id + %d, emb FROM fz WHERE id %% 7 = 3;' % self.rows)
        opts = self.index_options()
        index = ['CREATE INDEX %sfz_idx ON fz USING funnel (emb %s)%s;' % (
            'CONCURRENTLY ' if self.concurrently else '', self.opclass,
            ' WITH (%s)' % opts if opts else '')]
        return table + index + load if self.index_first else table + load + index

    def update_vectors(self):
        """New vectors for the rows of a random range of ids (one call of
        the generator: each call costs a few ms of planning)."""
        n = self.rng.randint(5, 150)
        first = self.rng.randint(1, max(1, self.next_id - n))
        return ('UPDATE fz SET emb = v.emb FROM %s v WHERE v.id = fz.id AND fz.id %% 2 = %d;'
                % (self.vectors(n, first), self.rng.randint(0, 1)))

    def other_dim(self):
        """A dimension count other than the column's that the index accepts."""
        low = self.coarse or 64
        d = self.rng.choice([d for d in range(low, 2 * self.dim + 3) if d != self.dim])
        self.min_dim = min(self.min_dim, d)
        return d

    def step(self):
        """The next step: (kind, statements)."""
        r = self.rng
        kind = r.choices(list(STEP_WEIGHTS), weights=list(STEP_WEIGHTS.values()))[0]
        if self.typmod and kind.startswith('other_dim'):
            kind = 'insert_rollback'
        m = r.randint(2, 9)
        where = 'id %% %d = %d' % (m, r.randint(0, m - 1))
        if kind == 'insert':
            n = r.choice([1, r.randint(1, 10), r.randint(10, 120)])
            return kind, ['INSERT INTO fz SELECT * FROM %s;' % self.vectors(n, self.take_ids(n))]
        if kind == 'insert_null':
            n = r.randint(1, 4)
            first = self.take_ids(n)
            return kind, ['INSERT INTO fz SELECT g, NULL FROM generate_series(%d, %d) g;' % (first, first + n - 1)]
        if kind == 'insert_duplicates':
            n = r.randint(1, 20)
            return kind, ['INSERT INTO fz SELECT %d + row_number() OVER (), emb FROM (SELECT emb FROM fz '
                          'WHERE emb IS NOT NULL AND %s ORDER BY id LIMIT %d) s;' % (self.take_ids(n) - 1, where, n)]
        if kind == 'insert_rollback':
            n = r.randint(1, 50)
            return kind, ['BEGIN;', 'INSERT INTO fz SELECT * FROM %s;' % self.vectors(n, self.take_ids(n)),
                          'ROLLBACK;']
        if kind == 'update_vectors':
            return kind, [self.update_vectors()]
        if kind == 'update_null':
            return kind, ['UPDATE fz SET emb = NULL WHERE id %% %d = 0;' % r.randint(11, 31)]
        if kind == 'update_scale':
            return kind, ['UPDATE fz SET emb = emb * array_fill(%s::real, ARRAY[%d])::mvector WHERE %s;'
                          % (r.choice([0.25, 0.5, 2, 3, 10]), self.dim, where)]
        if kind == 'update_same':  # a new row version with the same vector (often HOT)
            return kind, ['UPDATE fz SET id = id WHERE %s;' % where]
        if kind == 'update_rollback':
            return kind, ['BEGIN;', self.update_vectors(), 'ROLLBACK;']
        if kind == 'delete':
            return kind, ['DELETE FROM fz WHERE %s;' % where]
        if kind == 'churn':  # issue 10 item 11: delete all, VACUUM, insert as many again; 3 times
            n = max(self.rows, 200)
            return kind, [s for _ in range(3) for s in (
                'DELETE FROM fz;', 'VACUUM fz;', 'INSERT INTO fz SELECT * FROM %s;' % self.vectors(n, self.take_ids(n)))]
        if kind == 'other_dim_rollback':
            n = r.randint(1, 3)
            return kind, ['BEGIN;', 'INSERT INTO fz SELECT * FROM %s;'
                          % self.vectors(n, self.take_ids(n), self.other_dim()), 'ROLLBACK;']
        if kind == 'other_dim_savepoint':
            n = r.randint(1, 10)
            return kind, ['BEGIN;', 'INSERT INTO fz SELECT * FROM %s;' % self.vectors(n, self.take_ids(n)),
                          'SAVEPOINT s;', 'INSERT INTO fz SELECT * FROM %s;'
                          % self.vectors(1, self.take_ids(1), self.other_dim()), 'ROLLBACK TO s;', 'COMMIT;']
        if kind == 'other_dim_dead':
            first = self.take_ids(2)
            return kind, ['BEGIN;', 'INSERT INTO fz SELECT * FROM %s;' % self.vectors(2, first, self.other_dim()),
                          'DELETE FROM fz WHERE id >= %d;' % first, 'COMMIT;']
        if kind == 'vacuum':
            return kind, ['VACUUM fz;']
        if kind == 'vacuum_full':
            return kind, ['VACUUM FULL fz;']
        return kind, ['REINDEX INDEX %sfz_idx;' % r.choice(['', 'CONCURRENTLY '])]

    def query(self):
        """SQL of a query vector with the column's dimension count."""
        r = self.rng
        fresh = '(SELECT emb FROM %s)' % self.vectors(1, 1)
        pick = r.random()
        if pick < 0.45:
            return fresh
        if pick < 0.7:  # a stored vector: distance 0, ties with its duplicates
            return ('coalesce((SELECT emb FROM fz WHERE emb IS NOT NULL AND id >= %d ORDER BY id LIMIT 1), %s)'
                    % (r.randint(1, self.next_id), fresh))
        if pick < 0.8:  # all cosine distances NaN
            return 'array_fill(0::real, ARRAY[%d])::mvector' % self.dim
        if pick < 0.9:
            return '(SELECT emb FROM %s)' % self.vectors(1, 1, shape=r.choice(['clustered', 'uniform', 'grid']))
        return '%s * array_fill(%s::real, ARRAY[%d])::mvector' % (fresh, r.choice([1e-3, 1e3]), self.dim)

    def checks(self):
        """The checks after a step: settings, then one statement per scan."""
        r = self.rng
        pick = r.random()
        if pick < 0.25:
            settings = ['SET mrl.funnel_shortlist = %d;' % r.randint(1, 64)]
        elif pick < 0.45:
            settings = ['SET mrl.funnel_probes = %d;' % r.randint(1, 4)]
        else:
            settings = []
        scans = []
        for exact in (True, True, False, False):  # a LIMIT or none (NULL)
            k = r.choice([1, 2, 5, 10, 50, 'NULL', 'NULL'] if exact else [1, 3, 10, 20, 50, 'NULL'])
            scans.append("SELECT * FROM funnel_fuzz_check('fz', '%s', %s, %s, %s);"
                         % (self.op, self.query(), k, 'true' if exact else 'false'))
        return settings, scans

    def size_bound(self, peak_heap, lists, min_dim):
        """Most pages the index may take: metapage, directory, a partly
        filled page per list, and twice the pages the entries of a heap at
        its peak size would fill (a heap page holds at most this many
        non-NULL rows of the fewest dims inserted)."""
        c = self.coarse or 64
        code = {'float4': 4 * c, 'binary': (c + 7) // 8}.get(self.precision, c)
        entry = (40 + code + 3) // 4 * 4  # the header is 36 bytes today: 4 of headroom
        heap_row = (33 + 4 * min_dim + 7) // 8 * 8 + 4
        entries = peak_heap * min(291, 8168 // heap_row)
        directory = math.ceil(lists * (32 + 4 * c) / 8100)
        return 1 + directory + lists + 2 * math.ceil(entries / (8100 // entry))

    def lists_at_build(self, rows):
        """Most lists a build over this many rows makes."""
        return self.lists or max(1, round(math.sqrt(rows)) + 1)


class Fuzzer:
    """Runs cases and collects failures by property."""

    def __init__(self, seed, log):
        self.seed = seed
        self.log = log
        self.failures = {kind: [] for kind, _ in PROPERTIES}
        self.nscans = 0

    def fail(self, kind, case, step_no, step_sql, check_sql, what):
        self.failures[kind].append((case, step_no, step_sql, check_sql, what))
        if self.log:
            print('seed %s case %d step %d [%s] %s' % (self.seed, case.number, step_no, kind, what),
                  file=self.log, flush=True)

    def run_case(self, case, steps):
        """Run the case's script in one psql session and read back its
        markers in order."""
        lines, plan = case_script(case, steps)
        self.nscans += sum(len(checks) for _, checks, _ in plan.values())
        res = subprocess.run([os.environ.get('PSQL', 'psql'), '-X', '-q', '-At', '-f', '-'],
                             input='\n'.join(lines) + '\n', capture_output=True, text=True)
        self.read_output(case, plan, res.stdout.splitlines())
        if res.returncode != 0:
            self.fail('error', case, steps, plan[steps][0], None,
                      'psql exited with status %d: %s' % (res.returncode, res.stderr.strip()[-400:]))

    def read_output(self, case, plan, out):
        step_no, in_checks, peak_heap, lists = 0, False, 0, 1
        for line in out:
            step_sql, check_sql, min_dim = plan[step_no]
            if line.startswith('@@step '):
                step_no, in_checks = int(line.split()[1]), False
            elif line.startswith('@@checks '):
                in_checks = True
            elif line.startswith('@@fail '):
                self.fail('error' if in_checks else 'step', case, step_no, step_sql, None, line[7:])
            elif line.startswith('@@measure '):
                _, pages, rows, why = line.split()
                peak_heap = max(peak_heap, int(pages))
                if why == 'build':
                    lists = case.lists_at_build(int(rows))
            elif line.startswith('size|'):
                index_pages, heap_pages = map(int, line.split('|')[1:])
                peak_heap = max(peak_heap, heap_pages)
                bound = case.size_bound(peak_heap, lists, min_dim)
                if index_pages > bound:
                    self.fail('size', case, step_no, step_sql, None,
                              'index %d pages, more than %d (heap %d pages, at most %d so far)'
                              % (index_pages, bound, heap_pages, peak_heap))
            elif line.startswith('check '):
                label, _, what = line.partition('|')
                kind = what.partition(':')[0]
                self.fail(kind if kind in self.failures else 'error', case, step_no, step_sql,
                          check_sql[int(label.split()[1])], what)
            else:
                self.fail('error', case, step_no, step_sql, None, 'unexpected output: ' + line)

    def report(self, ncases, nsteps, seconds):
        print('# %d cases, %d steps, %d index scans checked in %.0f s (seed %s)'
              % (ncases, nsteps, self.nscans, seconds, self.seed))
        for n, (kind, prop) in enumerate(PROPERTIES, 1):
            found = self.failures[kind]
            if not found:
                print('ok %d - %s' % (n, prop))
                continue
            case, step_no, step_sql, check_sql, what = found[0]
            cases = sorted({f[0].number for f in found})
            print('not ok %d - %s: %d failures in cases %s; first: seed %s case %d step %d: %s'
                  % (n, prop, len(found), ','.join(map(str, cases)), self.seed, case.number, step_no,
                     what.splitlines()[0][:400]))
            print('#   case %d: %s' % (case.number, case.describe()))
            for line in step_sql.splitlines():
                print('#   step %d: %s' % (step_no, line))
            for line in (check_sql or '').splitlines():
                print('#   check: %s' % line)
            print('#   replay: python3 %s --seed %s --case %d --upto %d --print-sql | psql'
                  % (os.path.relpath(os.path.abspath(__file__), ROOT), self.seed, case.number, step_no))
            firsts = {}
            for other, other_step, _, _, other_what in found:
                firsts.setdefault(other.number, (other_step, other_what))
            for number in cases[1:11]:
                other_step, other_what = firsts[number]
                print('#   also case %d step %d (--case %d --upto %d): %s'
                      % (number, other_step, number, other_step, other_what.splitlines()[0][:160]))
            if len(cases) > 11:
                print('#   and %d more cases' % (len(cases) - 11))


def case_script(case, steps, replay=False):
    """The psql script of a case's setup and first steps, each followed by
    its checks, with markers (@@...) the fuzzer reads back; a replay shows
    only the last step's checks.  Returns the lines and, by step number,
    (step SQL, SQL of each check, fewest dims inserted so far)."""
    fail = ['\\if :ERROR', '\\echo @@fail :LAST_ERROR_MESSAGE', '\\endif']
    lines = ['\\set ON_ERROR_STOP 0', 'SET client_min_messages = warning;', "SET statement_timeout = '120s';"]
    plan = {}
    for step_no in range(steps + 1):
        kind, statements = ('setup', case.setup()) if step_no == 0 else case.step()
        lines += ['-- step %d: %s' % (step_no, kind), '\\echo @@step %d' % step_no]
        for s in statements:
            if s.startswith(('CREATE INDEX', 'REINDEX', 'VACUUM')):
                lines.append("SELECT '@@measure ' || pg_relation_size('fz') / 8192 || ' ' || count(*) || ' %s' "
                             "FROM fz;" % ('vacuum' if s == 'VACUUM fz;' else 'build'))
            lines += [s] + fail
        settings, scans = case.checks()
        quiet = replay and step_no < steps
        lines += ['\\o /dev/null'] if quiet else ['-- checks after step %d (no output when all hold)' % step_no]
        lines += ['\\echo @@checks %d' % step_no, 'RESET mrl.funnel_shortlist;', 'RESET mrl.funnel_probes;']
        lines += settings
        for i, scan in enumerate(scans):
            lines += ["SELECT 'check %d|' || x FROM (%s) s(x);" % (i, scan.rstrip(';'))] + fail
        lines.append("SELECT 'size|' || pg_relation_size('fz_idx') / 8192 || '|' || pg_relation_size('fz') / 8192;")
        lines += ['\\o'] if quiet else []
        plan[step_no] = ('\n'.join(statements), ['\n'.join(settings + [s]) for s in scans], case.min_dim)
    return lines, plan


def print_sql(seed, case_no, upto):
    """The SQL of one case up to a step, then that step's checks."""
    case = Case(seed, case_no)
    print('-- funnel_fuzz seed %s case %d: %s' % (seed, case_no, case.describe()))
    print('CREATE EXTENSION IF NOT EXISTS mrl;')
    print("SELECT to_regproc('funnel_fuzz_check') IS NULL AS need_helpers \\gset")
    print('\\if :need_helpers\n\\i %s/test/funnel/funnel_check.sql\n\\i %s/test/funnel/funnel_fuzz.sql\n\\endif'
          % (ROOT, ROOT))
    print('\n'.join(case_script(case, min(upto, case.steps), replay=True)[0]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--seed', default='1', help='seed of the whole run')
    ap.add_argument('--steps', type=int, default=300, help='steps in all, over as many cases as they fill')
    ap.add_argument('--seconds', type=float, default=0, help='start no case after this long (0: no limit)')
    ap.add_argument('--case', type=int, help='run (or print) only this case')
    ap.add_argument('--upto', type=int, default=10 ** 9, help='with --case: stop after this step')
    ap.add_argument('--print-sql', action='store_true', help="with --case: print the case's SQL, do not run it")
    ap.add_argument('--log', help='append every failure to this file')
    ap.add_argument('--verbose', action='store_true', help='describe each case as it ends')
    args = ap.parse_args()
    if args.print_sql:
        if args.case is None:
            ap.error('--print-sql needs --case')
        print_sql(args.seed, args.case, args.upto)
        return 0

    fuzzer = Fuzzer(args.seed, open(args.log, 'a') if args.log else None)
    start = time.monotonic()
    ncases = nsteps = 0
    case_no = args.case or 1
    while nsteps < args.steps:
        case = Case(args.seed, case_no)
        steps = min(case.steps, args.steps - nsteps, args.upto)
        case_start = time.monotonic()
        fuzzer.run_case(case, steps)
        if args.verbose:
            print('# case %d: %s; %d steps, %.1f s'
                  % (case_no, case.describe(), steps, time.monotonic() - case_start), flush=True)
        ncases += 1
        nsteps += steps
        case_no += 1
        if args.case is not None or (args.seconds and time.monotonic() - start > args.seconds):
            break
    fuzzer.report(ncases, nsteps, time.monotonic() - start)
    return 1 if any(fuzzer.failures.values()) else 0


if __name__ == '__main__':
    sys.exit(main())
