"""Small helpers shared by the ingest tests: write a file, find one problem by code."""

from __future__ import annotations

from pathlib import Path

from bufferwise.errors import Problem
from bufferwise.model.batch import ImportBatch


def write(
    folder: Path, name: str, text: str, *, encoding: str = "utf-8", newline: str = "\n"
) -> Path:
    path = folder / name
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


def problems_with(batch: ImportBatch, code: str) -> list[Problem]:
    return [p for p in batch.problems if p.code == code]


def one(batch: ImportBatch, code: str) -> Problem:
    found = problems_with(batch, code)
    assert len(found) == 1, (
        f"expected one {code} problem, got {[p.message() for p in batch.problems]}"
    )
    return found[0]
