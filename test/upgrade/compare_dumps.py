#!/usr/bin/env python3
"""compare_dumps.py: the differences between two schema dumps of one extension.

usage: compare_dumps.py UPDATED.sql FRESH.sql

Both files are `pg_dump --schema-only --binary-upgrade` output, the mode in
which pg_dump writes every member of an extension (a plain dump writes only
CREATE EXTENSION).  Each dump entry (a "-- Name: ...; Type: ...;" header and
its statements) is compared with the entry of the same name in the other
dump, after removing what differs between any two databases (OIDs, LSNs,
frozen transaction ids, pg_dump's per-run \\restrict key).  Prints each object
missing from either side (with its statements) or defined differently (with
a diff), then a count, and exits with the number of such objects (at most
100; 0: the same objects).
"""
import difflib
import re
import sys

HEADER = re.compile(r'^-- Name: (.*); Type: (.*); Schema: (.*); Owner: .*$')
# what differs between any two databases: (pattern, replacement or None to drop the line)
NOISE = [
    (re.compile(r"^SELECT pg_catalog\.binary_upgrade_set_next_\w+\(.*\);$"), None),
    (re.compile(r"^\\(un)?restrict \S+$"), None),
    (re.compile(r"^(SELECT pg_catalog\.binary_upgrade_create_empty_extension\(.*)'\{[0-9,]*\}'"), r"\1'{OIDS}'"),
    (re.compile(r"relfrozenxid = '\d+', relminmxid = '\d+'"), "relfrozenxid = 'XID', relminmxid = 'MXID'"),
    (re.compile(r"^WHERE oid = '\d+';$"), "WHERE oid = 'OID';"),
    # a column added with a constant default keeps it as a "missing value"
    # for the rows that existed then: storage, not a difference in the schema
    (re.compile(r"^SELECT pg_catalog\.binary_upgrade_set_missing_value\(.*\);$"), None),
]


def normalise(line):
    """The line without what differs between databases; None to drop it."""
    if line.startswith('--') or not line.strip():
        return None
    for pattern, repl in NOISE:
        if pattern.search(line):
            if repl is None:
                return None
            line = pattern.sub(repl, line)
    return line


def entries(path):
    """{(type, schema, name): [statement lines]} of one dump."""
    found, body = {}, None
    with open(path) as f:
        for line in f:
            line = line.rstrip('\n')
            m = HEADER.match(line)
            if m:
                body = found.setdefault((m.group(2), m.group(3), m.group(1)), [])
            elif body is not None:
                line = normalise(line)
                if line is not None:
                    body.append(line)
    return found


def show(key):
    kind, schema, name = key
    return '%s %s%s' % (kind, name, '' if schema == '-' else ' in schema ' + schema)


def main():
    updated, fresh = entries(sys.argv[1]), entries(sys.argv[2])
    problems = 0
    for key in sorted(set(updated) | set(fresh)):
        if key not in updated:
            print('missing after the update: ' + show(key))
            print('\n'.join('    ' + line for line in fresh[key]))
        elif key not in fresh:
            print('only after the update: ' + show(key))
            print('\n'.join('    ' + line for line in updated[key]))
        elif updated[key] != fresh[key]:
            print('defined differently: ' + show(key))
            print('\n'.join('    ' + line for line in difflib.unified_diff(
                updated[key], fresh[key], 'updated', 'fresh install', lineterm='')))
        else:
            continue
        problems += 1
    print('%d dump entries after the update, %d in a fresh install, %d differences'
          % (len(updated), len(fresh), problems))
    return min(problems, 100)


if __name__ == '__main__':
    sys.exit(main())
