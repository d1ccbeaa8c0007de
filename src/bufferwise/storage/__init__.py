"""Storage: SQLAlchemy tables, Alembic migrations, and the repository (SQLite or PostgreSQL)."""

from bufferwise.storage.bulk import TableCounts
from bufferwise.storage.imports import ImportRecord, ImportResult
from bufferwise.storage.repository import Repository, open_repository
from bufferwise.storage.runs import RunRecord

__all__ = [
    "ImportRecord",
    "ImportResult",
    "Repository",
    "RunRecord",
    "TableCounts",
    "open_repository",
]
