"""Domain types and the canonical table definitions."""

from bufferwise.model.batch import FileReport, ImportBatch
from bufferwise.model.schema import MACHINE_STATES, TABLES, Column, RowRule, Table, table

__all__ = [
    "MACHINE_STATES",
    "TABLES",
    "Column",
    "FileReport",
    "ImportBatch",
    "RowRule",
    "Table",
    "table",
]
