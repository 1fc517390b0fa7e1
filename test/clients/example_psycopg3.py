#!/usr/bin/python3
# example_psycopg3.py: mvector from Python with psycopg 3 (Debian's python3-psycopg), numpy arrays both ways.
#
# Dumpers and loaders in text and binary form, parameters of either form,
# COPY FORMAT binary in and out through the same adapters, and a KNN query.
# Connects with libpq's environment (PGHOST, PGPORT, PGUSER, PGDATABASE);
# run by test/suites/32_clients.sh, which checks what it stores and prints.
import struct

import numpy as np
import psycopg
from psycopg.adapt import Dumper, Loader
from psycopg.pq import Format
from psycopg.types import TypeInfo


# --- the mapping: numpy float32 array <-> mvector -------------------------

class MvectorTextDumper(Dumper):
    """'[1,2.5,-3]': Python floats print exactly the float32 values."""

    def dump(self, obj):
        return ("[" + ",".join(map(repr, np.asarray(obj, dtype=np.float32).tolist())) + "]").encode()


class MvectorBinaryDumper(Dumper):
    """int16 dims, int16 zero, big-endian float4s (pgvector's layout)."""

    format = Format.BINARY

    def dump(self, obj):
        arr = np.asarray(obj, dtype=">f4")
        return struct.pack(">hh", len(arr), 0) + arr.tobytes()


class MvectorTextLoader(Loader):
    def load(self, data):
        return np.array(bytes(data)[1:-1].split(b","), dtype=np.float32)


class MvectorBinaryLoader(Loader):
    format = Format.BINARY

    def load(self, data):
        dims, unused = struct.unpack_from(">hh", data)
        return np.frombuffer(data, dtype=">f4", count=dims, offset=4).astype(np.float32)


def register_mvector(conn):
    """numpy arrays are sent as mvector (%t text, %b binary); mvector results, either form, load as arrays."""
    info = TypeInfo.fetch(conn, "mvector")
    info.register(conn)
    for dumper in (MvectorTextDumper, MvectorBinaryDumper):
        conn.adapters.register_dumper(np.ndarray, type(dumper.__name__, (dumper,), {"oid": info.oid}))
    for loader in (MvectorTextLoader, MvectorBinaryLoader):
        conn.adapters.register_loader(info.oid, loader)


# --- the example -----------------------------------------------------------

DIMS, ROWS = 16, 200


def item_vector(i):
    """Deterministic float32 values that the test recomputes in SQL."""
    j = np.arange(DIMS)
    return (((i * 37 + j * 101) % 199 - 99).astype(np.float32) / np.float32(7)).astype(np.float32)


def exact_rows(got, items):
    return sum(np.array_equal(got[i].view(np.uint32), items[i].view(np.uint32)) for i in items)


def main():
    items = {i: item_vector(i) for i in range(1, ROWS + 1)}
    with psycopg.connect("") as conn:
        register_mvector(conn)
        cur = conn.cursor()
        cur.execute("DROP TABLE IF EXISTS items_psycopg3")
        cur.execute("CREATE TABLE items_psycopg3 (id bigint PRIMARY KEY, emb mvector(%d))" % DIMS)
        # parameters in text form, in binary form, then COPY BINARY
        for i in range(1, 3):
            cur.execute("INSERT INTO items_psycopg3 (id, emb) VALUES (%s, %t)", (i, items[i]))
        for i in range(3, 5):
            cur.execute("INSERT INTO items_psycopg3 (id, emb) VALUES (%s, %b)", (i, items[i]))
        with cur.copy("COPY items_psycopg3 (id, emb) FROM STDIN (FORMAT binary)") as copy:
            copy.set_types(["bigint", "mvector"])
            for i in range(5, ROWS + 1):
                copy.write_row((i, items[i]))

        cur.execute("SELECT id, emb FROM items_psycopg3")
        print("round trip (text): %d of %d rows exact" % (exact_rows(dict(cur.fetchall()), items), ROWS))
        cur.execute("SELECT id, emb FROM items_psycopg3", binary=True)
        print("round trip (binary): %d of %d rows exact" % (exact_rows(dict(cur.fetchall()), items), ROWS))
        with cur.copy("COPY items_psycopg3 (id, emb) TO STDOUT (FORMAT binary)") as copy:
            copy.set_types(["bigint", "mvector"])
            dumped = dict(copy.rows())
        print("round trip (COPY-binary): %d of %d rows exact" % (exact_rows(dumped, items), ROWS))

        cur.execute("SELECT id FROM items_psycopg3 ORDER BY emb <=> %b LIMIT 5", (items[7],))
        print("knn:", " ".join(str(row_id) for (row_id,) in cur.fetchall()))


if __name__ == "__main__":
    main()
