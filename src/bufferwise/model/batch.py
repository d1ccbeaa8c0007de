"""What an import hands to storage: canonical tables as DataFrames plus the problem report."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from bufferwise.errors import Problem


@dataclass(slots=True)
class FileReport:
    """What happened to one input file.

    rows_read      data rows found in the file (header excluded)
    rows_accepted  rows that became canonical rows (after wide-to-long, one source row may
                   give several canonical rows; counts here are source rows)
    rows_rejected  rows refused (errors) or dropped by a mapping filter with a stated reason
    rows_warned    accepted rows that carried at least one warning
    """

    file: str
    content_hash: str
    mapping: str
    rows_read: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    rows_warned: int = 0


@dataclass(slots=True)
class ImportBatch:
    """Canonical rows ready to store, and everything found wrong on the way.

    tables    table name -> DataFrame with exactly the canonical columns of that table
              (see `bufferwise.model.schema`), typed: str columns as object/str, float as
              float64, date as datetime64[ns] (midnight), datetime as datetime64[ns] (naive UTC)
    problems  every error (rejected rows) and warning, in file / row order
    files     one report per input file
    on_bad_row the source mapping's default for bad rows: "fail" (reject the import) or
              "skip" (keep the good rows); `bufferwise.ingest.enforce_policy` reads it
    """

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    files: list[FileReport] = field(default_factory=list)
    on_bad_row: str = "fail"

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def row_count(self) -> int:
        return sum(len(df) for df in self.tables.values())
