"""The exception tree. Every error a user can cause says what, where and what to do.

BufferwiseError
 ├── InvalidInput(ValueError)      bad data or arguments; carries a list of `Problem`s
 │    ├── MappingError              a mapping file is wrong (names the key / column)
 │    └── SettingsError             a settings file is wrong (names the key)
 ├── ImportRejected                an import was refused as a whole; nothing was written
 └── StorageError                  the database could not be read or written
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One rejected row, or one warning, in the single error shape of the project.

    file     the file (or table) the value came from
    row      1-based data row number in that file (the header is row 0); None for file-level
    column   the column name; None when the problem concerns the whole row or file
    value    the offending raw value, as text
    expected what was expected, in words a planner can act on
    severity "error" (the row is rejected) or "warning" (kept, counted, reported)
    code     a short stable code, e.g. "bad_date", "negative_quantity", "duplicate_key"
    """

    file: str
    row: int | None
    column: str | None
    value: str | None
    expected: str
    severity: str = "error"
    code: str = "invalid"

    def message(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column}")
        head = ", ".join(where)
        if self.value is not None:
            shown = self.value if len(self.value) <= 60 else self.value[:57] + "..."
            return f"{head}: {shown!r} {self.expected}"
        return f"{head}: {self.expected}"

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "expected": self.expected,
            "severity": self.severity,
            "code": self.code,
        }


class BufferwiseError(Exception):
    """Base of every error bufferwise raises on purpose."""


class InvalidInput(BufferwiseError, ValueError):
    """Bad data or arguments. `problems` lists each one in the common shape."""

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.problems: list[Problem] = list(problems or [])


class MappingError(InvalidInput):
    """A mapping file is malformed or names something that does not exist."""


class SettingsError(InvalidInput):
    """A settings file has an unknown key or a bad value."""


class ImportRejected(BufferwiseError):
    """An import was refused as a whole (strict mode, or every row bad); nothing was written."""

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.problems: list[Problem] = list(problems or [])


class StorageError(BufferwiseError):
    """The database could not be opened, migrated, read or written."""
