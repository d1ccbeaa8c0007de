"""What to do with an import that has bad rows (decided once, used by CLI, web and services).

    "default"  reject the whole import when any row has an error (nothing is written); the
               message names the first error and says how to import the rest. A mapping with
               on_bad_row = "skip" turns the default into "skip" for its export.
    "skip"     keep the good rows; the rejected ones stay in the report
    "strict"   reject the whole import at the first error
In every mode an import where no row survives is rejected.
"""

from __future__ import annotations

from bufferwise.errors import ImportRejected
from bufferwise.model.batch import ImportBatch

MODES = ("default", "skip", "strict")


def effective_mode(batch: ImportBatch, mode: str) -> str:
    if mode not in MODES:
        raise ValueError(f"unknown bad-row mode {mode!r}; expected one of {', '.join(MODES)}")
    if mode == "default" and batch.on_bad_row == "skip":
        return "skip"
    return mode


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _none_survived(batch: ImportBatch) -> str:
    """Why an import without errors still has no row to write, file by file."""
    parts = []
    for f in batch.files:
        filtered = sum(1 for p in batch.problems if p.file == f.file and p.code == "filtered")
        why = [
            f"{_plural(f.rows_read, 'row')} read",
            f"{filtered} filtered out",
            f"{f.rows_rejected - filtered} rejected for errors",
        ]
        if f.rows_accepted:
            why.append(f"{f.rows_accepted} accepted but giving no table row (e.g. empty cells)")
        parts.append(f"{f.file} ({', '.join(why)})")
    where = "; ".join(parts) if parts else "the import (no file)"
    return f"no row survived in {where}; nothing was imported"


def enforce_policy(
    batch: ImportBatch, mode: str = "default", *, rows: int | None = None
) -> ImportBatch:
    """Return `batch` when it may be written under `mode`, else raise `ImportRejected` with
    one clear line (and every problem in `.problems`). `rows`: the canonical rows the import
    would write, when they are not kept in `batch.tables` (an import stored slice by slice)."""
    mode = effective_mode(batch, mode)
    errors = batch.errors
    if not errors:
        if (batch.row_count() if rows is None else rows) == 0:
            raise ImportRejected(_none_survived(batch), list(batch.problems))
        return batch
    first = errors[0]
    if mode == "strict":
        raise ImportRejected(
            f"{first.message()} (strict mode stops at the first error; nothing was imported)",
            [first],
        )
    accepted = sum(f.rows_accepted for f in batch.files)
    bad_rows = len({(p.file, p.row) for p in errors})
    if (batch.row_count() if rows is None else rows) == 0:
        raise ImportRejected(
            f"{first.message()}; no row could be imported ({_plural(len(errors), 'problem')})",
            list(batch.problems),
        )
    if mode == "default":
        more = (
            f"{_plural(bad_rows, 'row')} had errors ({_plural(len(errors), 'problem')}), "
            if len(errors) > 1
            else ""
        )
        raise ImportRejected(
            f"{first.message()}; {more}{_plural(accepted, 'row')} "
            f"{'was' if accepted == 1 else 'were'} fine, nothing was imported "
            "(use --skip-bad-rows to import the rest)",
            list(batch.problems),
        )
    return batch
