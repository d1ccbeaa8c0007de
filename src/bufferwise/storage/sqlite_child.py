"""The reading child of `bufferwise.storage.fetch.read_sqlite_file`: run as a script, never
imported by bufferwise.

It opens a SQLite file read-only through the ADBC SQLite driver, runs the requested SELECTs in
ONE read transaction (every table comes from the same committed state) and writes each result
to stdout as an Arrow IPC stream, batch by batch as SQLite produces the rows: no Python object
per row on either side of the pipe.

Why a process of its own: the ADBC driver carries its own copy of the SQLite library, and two
copies in one process break SQLite's POSIX locking (closing a file through one copy drops the
locks that the other copy holds; a live WAL file has been deleted that way). In a process of
its own the driver is one more ordinary reader of the database, like the sqlite3 shell.

Request, JSON on stdin:
    {"uri": "file:/path/x.db?mode=ro", "parent": <pid>, "batch_rows": 65536,
     "state": "SELECT ... (answered first, in the same transaction)",
     "queries": [{"source": "demand ORDER BY item_id, date",
                  "columns": [{"name": "returns", "expr": "returns", "nullable": true,
                               "fill": "0.0"}, ...]}, ...]}
The driver infers each column's type from the first batch of rows; a column that is NULL all
through it (typed INT64 then) and has text or real numbers later would fail mid-stream. So a
nullable column with no value in the first batch is selected as `ifnull(expr, fill)` plus an
`expr IS NULL` flag, and sent as one column again with NULL where the flag is set.

Output: one IPC stream with the answer to "state", then one per query, in request order. On
any failure: a message on stderr and exit status 1 (the parent then reads in-process); exit
status 3: the parent is gone.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import sys
from typing import Any


def _die_with_parent(parent: int) -> None:
    """On Linux, be killed when the parent dies: a killed analyze leaves no reader behind."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the line above took effect
        sys.exit(3)


def _run(request: dict[str, Any]) -> None:
    import adbc_driver_manager as adbc
    import adbc_driver_sqlite
    import pyarrow as pa
    import pyarrow.compute as pc

    batch_rows = int(request["batch_rows"])
    database = adbc_driver_sqlite.connect(request["uri"])
    conn = adbc.AdbcConnection(database)
    conn.set_autocommit(False)  # one read transaction for every query: one snapshot
    out = pa.output_stream(sys.stdout.buffer, buffer_size=1 << 20)

    statements: list[Any] = []

    def execute(sql: str) -> pa.RecordBatchReader:
        statement = adbc.AdbcStatement(conn)
        statements.append(statement)
        statement.set_options(**{"adbc.sqlite.query.batch_rows": str(batch_rows)})
        statement.set_sql_query(sql)
        handle, _ = statement.execute_query()
        return pa.RecordBatchReader._import_from_c(handle.address)

    try:
        if request.get("state"):  # first read: fixes the snapshot of the transaction
            state = execute(request["state"]).read_all()
            with pa.ipc.new_stream(out, state.schema) as first:
                first.write_table(state)
            out.flush()
        for query in request["queries"]:
            columns: list[dict[str, Any]] = query["columns"]
            source: str = query["source"]
            flagged = [False] * len(columns)
            nullable = [j for j, c in enumerate(columns) if c["nullable"]]
            if nullable:  # which nullable columns have a value in the first batch?
                probe = ", ".join(f"count(v{j}) > 0" for j in nullable)
                inner = ", ".join(f"{columns[j]['expr']} AS v{j}" for j in nullable)
                seen = execute(
                    f"SELECT {probe} FROM (SELECT {inner} FROM {source} LIMIT {batch_rows})"
                ).read_all()
                for k, j in enumerate(nullable):
                    flagged[j] = not seen.column(k)[0].as_py()
            select: list[str] = []
            for c, flag in zip(columns, flagged, strict=True):
                if flag:
                    select += [f"ifnull({c['expr']}, {c['fill']})", f"({c['expr']}) IS NULL"]
                else:
                    select.append(c["expr"])
            names = [c["name"] for c in columns]
            rows = execute(f"SELECT {', '.join(select)} FROM {source}")
            writer: Any = None
            for batch in rows:
                arrays: list[Any] = []
                at = 0
                for flag in flagged:
                    value = batch.column(at)
                    if flag:
                        empty = pc.not_equal(batch.column(at + 1), 0)
                        value = pc.if_else(empty, pa.scalar(None, value.type), value)
                    arrays.append(value)
                    at += 2 if flag else 1
                typed = pa.RecordBatch.from_arrays(arrays, names=names)
                if writer is None:
                    writer = pa.ipc.new_stream(out, typed.schema)
                writer.write_batch(typed)  # a batch typed otherwise than the first: an error
            if writer is None:  # no rows
                writer = pa.ipc.new_stream(out, pa.schema([(n, pa.null()) for n in names]))
            writer.close()
            out.flush()
    finally:
        for statement in statements:
            statement.close()
        conn.rollback()
        conn.close()
        database.close()
    out.close()


def main() -> int:
    request = json.loads(sys.stdin.buffer.read())
    _die_with_parent(int(request["parent"]))
    try:
        _run(request)
    except BrokenPipeError:
        return 3
    except Exception as exc:
        sys.stderr.write(f"{type(exc).__name__}: {exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
