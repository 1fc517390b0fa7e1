#!/usr/bin/python3
# example.py: mvector from Python with psycopg 2 (Debian's python3-psycopg2), numpy arrays both ways.
#
# Text form for parameters and results (psycopg 2 has no binary parameters),
# COPY FORMAT binary for bulk loads and dumps, and a KNN query.  Connects
# with libpq's environment (PGHOST, PGPORT, PGUSER, PGDATABASE); run by
# test/suites/32_clients.sh, which checks what it stores and prints.
import io
import struct

import numpy as np
import psycopg2
import psycopg2.extensions


# --- the mapping: numpy float32 array <-> mvector -------------------------

def mvector_to_text(arr):
    """'[1,2.5,-3]': Python floats print exactly the float32 values."""
    return "[" + ",".join(map(repr, np.asarray(arr, dtype=np.float32).tolist())) + "]"


def mvector_from_text(text, cursor):
    if text is None:
        return None
    return np.array(text[1:-1].split(","), dtype=np.float32)


def mvector_to_binary(arr):
    """int16 dims, int16 zero, big-endian float4s (pgvector's layout)."""
    arr = np.asarray(arr, dtype=">f4")
    return struct.pack(">hh", len(arr), 0) + arr.tobytes()


def mvector_from_binary(data):
    dims, unused = struct.unpack_from(">hh", data)
    return np.frombuffer(data, dtype=">f4", count=dims, offset=4).astype(np.float32)


class MvectorParameter:
    """A numpy array as an SQL literal: '[1,2.5,-3]'::mvector (digits only, nothing to escape)."""

    def __init__(self, arr):
        self.arr = arr

    def getquoted(self):
        return ("'%s'::mvector" % mvector_to_text(self.arr)).encode()


def register_mvector(conn):
    """Parameters that are numpy arrays go as mvector text; mvector results come back as arrays."""
    psycopg2.extensions.register_adapter(np.ndarray, MvectorParameter)
    with conn.cursor() as cur:
        cur.execute("SELECT 'mvector'::regtype::oid")
        oid = cur.fetchone()[0]
    psycopg2.extensions.register_type(
        psycopg2.extensions.new_type((oid,), "MVECTOR", mvector_from_text), conn)


# --- COPY FORMAT binary: (id bigint, emb mvector) rows ---------------------

COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)


def copy_binary_rows(rows):
    """A PGCOPY stream of (id, array) rows."""
    out = io.BytesIO()
    out.write(COPY_HEADER)
    for row_id, arr in rows:
        emb = mvector_to_binary(arr)
        out.write(struct.pack(">hiq", 2, 8, row_id))
        out.write(struct.pack(">i", len(emb)) + emb)
    out.write(struct.pack(">h", -1))
    out.seek(0)
    return out


def read_copy_binary_rows(data):
    """(id, array) rows of a PGCOPY stream of (id bigint, emb mvector)."""
    pos = len(COPY_HEADER)
    rows = []
    while True:
        (fields,) = struct.unpack_from(">h", data, pos)
        pos += 2
        if fields == -1:
            return rows
        _, row_id, length = struct.unpack_from(">iqi", data, pos)
        pos += 16
        rows.append((row_id, mvector_from_binary(data[pos:pos + length])))
        pos += length


# --- the example -----------------------------------------------------------

DIMS, ROWS = 16, 200


def item_vector(i):
    """Deterministic float32 values that the test recomputes in SQL."""
    j = np.arange(DIMS)
    return (((i * 37 + j * 101) % 199 - 99).astype(np.float32) / np.float32(7)).astype(np.float32)


def main():
    conn = psycopg2.connect("")
    register_mvector(conn)
    items = {i: item_vector(i) for i in range(1, ROWS + 1)}
    with conn, conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS items_psycopg2")
        cur.execute("CREATE TABLE items_psycopg2 (id bigint PRIMARY KEY, emb mvector(%s))" % DIMS)
        # a few rows with parameters, the rest with COPY BINARY
        for i in range(1, 5):
            cur.execute("INSERT INTO items_psycopg2 (id, emb) VALUES (%s, %s)", (i, items[i]))
        cur.copy_expert("COPY items_psycopg2 (id, emb) FROM STDIN (FORMAT binary)",
                        copy_binary_rows((i, items[i]) for i in range(5, ROWS + 1)))

        cur.execute("SELECT id, emb FROM items_psycopg2")
        text_rows = dict(cur.fetchall())
        dump = io.BytesIO()
        cur.copy_expert("COPY items_psycopg2 (id, emb) TO STDOUT (FORMAT binary)", dump)
        binary_rows = dict(read_copy_binary_rows(dump.getvalue()))
        for name, got in (("text", text_rows), ("COPY-binary", binary_rows)):
            exact = sum(np.array_equal(got[i].view(np.uint32), items[i].view(np.uint32)) for i in items)
            print("round trip (%s): %d of %d rows exact" % (name, exact, ROWS))

        cur.execute("SELECT id FROM items_psycopg2 ORDER BY emb <=> %s LIMIT 5", (items[7],))
        print("knn:", " ".join(str(row_id) for (row_id,) in cur.fetchall()))
    conn.close()


if __name__ == "__main__":
    main()
