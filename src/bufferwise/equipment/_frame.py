"""Edge helpers shared by the equipment modules: column checks and pandas -> NumPy conversion.

Validation happens here, once; the computations work on contiguous NumPy arrays.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from bufferwise.errors import InvalidInput, Problem

NS_PER_S = 1_000_000_000
NS_PER_H = 3_600 * NS_PER_S


def require_columns(frame: pd.DataFrame, table: str, columns: Sequence[str]) -> None:
    """Raise InvalidInput naming the table and each missing column."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        problems = [
            Problem(table, None, c, None, "column is missing", code="missing_column")
            for c in missing
        ]
        raise InvalidInput(
            f"{table}: missing column(s) {', '.join(missing)} "
            f"(found {', '.join(map(str, frame.columns)) or 'none'})",
            problems,
        )


def to_ns(values: pd.Series | pd.Index, table: str, column: str) -> np.ndarray:
    """Timestamps -> int64 nanoseconds since the epoch (naive UTC; tz-aware converted to UTC)."""
    s = pd.Series(values, copy=False)
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
    elif not pd.api.types.is_datetime64_any_dtype(s.dtype):
        try:
            s = pd.to_datetime(s, utc=True).dt.tz_localize(None)
        except (ValueError, TypeError) as exc:
            raise InvalidInput(
                f"{table}.{column}: values are not dates and times "
                f"(expected YYYY-MM-DD HH:MM[:SS]): {exc}"
            ) from None
    if s.isna().any():
        row = int(np.flatnonzero(s.isna().to_numpy())[0])
        raise InvalidInput(
            f"{table} row {row + 1}, column {column}: empty timestamp "
            "(expected YYYY-MM-DD HH:MM[:SS])",
            [Problem(table, row + 1, column, "", "is empty (expected a timestamp)", code="empty")],
        )
    return np.ascontiguousarray(s.to_numpy("datetime64[ns]").view(np.int64))


def codes_for(values: pd.Series, categories: pd.Index) -> np.ndarray:
    """Integer codes of `values` in `categories` (-1 where absent), fast for categoricals."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        cat = values.cat
        mapping = categories.get_indexer(cat.categories.astype(str))
        raw = cat.codes.to_numpy()
        out = np.where(raw >= 0, mapping[np.maximum(raw, 0)], -1)
        return out.astype(np.int64)
    return np.asarray(categories.get_indexer(pd.Index(values.astype(str))), dtype=np.int64)


def unique_ids(*series: pd.Series) -> pd.Index:
    """Sorted union of identifiers (as text) over several columns."""
    parts: list[np.ndarray] = []
    for s in series:
        if isinstance(s.dtype, pd.CategoricalDtype):
            used = s.cat.categories[np.unique(s.cat.codes.to_numpy()[s.cat.codes.to_numpy() >= 0])]
            parts.append(np.asarray(used.astype(str)))
        else:
            parts.append(np.asarray(pd.unique(s.astype(str))))
    if not parts:
        return pd.Index([], dtype=object)
    return pd.Index(np.unique(np.concatenate(parts).astype(str)), dtype=object)
