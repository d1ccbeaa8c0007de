"""Small helpers shared by the ingest tests: write a file, find one problem by code."""

from __future__ import annotations

from pathlib import Path

import numpy as np

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


def shuffled_rows(
    rng: np.random.Generator, items: int, codes: np.ndarray, *columns: np.ndarray
) -> tuple[np.ndarray, ...]:
    """The rows in a random order, item codes renumbered in order of first appearance (as the
    demand collector numbers them): (codes, *columns)."""
    order = rng.permutation(len(codes))
    codes = codes[order]
    _, first = np.unique(codes, return_index=True)
    renumber = np.empty(items, dtype=np.int64)
    renumber[np.argsort(first)] = np.arange(items)
    return (renumber[codes], *(c[order] for c in columns))
