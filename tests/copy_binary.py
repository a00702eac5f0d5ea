#!/usr/bin/env python3
"""Reads PostgreSQL binary COPY streams, for the tests.

  copy_binary.py compare A B [--json-fields COLS JSONCOLS]

compares two streams field by field: equal bytes, except that the fields
named in JSONCOLS (out of the comma-separated column list COLS) are compared
as parsed JSON values (jsonb's leading version byte dropped), since the server
normalizes json and jsonb. Exits 1 naming the first difference.
"""
import json
import struct
import sys

SIGNATURE = b"PGCOPY\n\xff\r\n\x00"


def rows(path):
    data = open(path, "rb").read()
    if not data.startswith(SIGNATURE):
        sys.exit(f"{path}: not a binary COPY stream")
    (ext,) = struct.unpack(">i", data[15:19])
    pos = 19 + ext
    while True:
        (n,) = struct.unpack(">h", data[pos:pos + 2])
        pos += 2
        if n == -1:
            if pos != len(data):
                sys.exit(f"{path}: {len(data) - pos} bytes after the trailer")
            return
        row = []
        for _ in range(n):
            (length,) = struct.unpack(">i", data[pos:pos + 4])
            pos += 4
            if length == -1:
                row.append(None)
            else:
                row.append(data[pos:pos + length])
                pos += length
        yield row


def as_json(field):
    if field is None:
        return None
    if field[:1] == b"\x01":
        field = field[1:]
    return json.loads(field)


def main():
    if len(sys.argv) < 4 or sys.argv[1] != "compare":
        sys.exit(__doc__)
    a, b = sys.argv[2], sys.argv[3]
    json_at = set()
    if len(sys.argv) >= 7 and sys.argv[4] == "--json-fields":
        cols = sys.argv[5].split(",")
        json_at = {cols.index(c) for c in sys.argv[6].split(",")}
    count = 0
    for number, (x, y) in enumerate(zip(rows(a), rows(b), strict=True), start=1):
        if len(x) != len(y):
            sys.exit(f"row {number}: {len(x)} fields against {len(y)}")
        for k, (u, v) in enumerate(zip(x, y)):
            same = as_json(u) == as_json(v) if k in json_at else u == v
            if not same:
                sys.exit(f"row {number}, field {k + 1}: {u!r} != {v!r}")
        count += 1
    print(f"{count} rows equal")


if __name__ == "__main__":
    main()
