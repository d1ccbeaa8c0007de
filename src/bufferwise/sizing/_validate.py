"""Edge validation shared by the sizing modules: one InvalidInput naming argument and value."""

from __future__ import annotations

import numpy as np

from bufferwise.errors import InvalidInput, Problem


def _fail(name: str, value: object, expected: str) -> InvalidInput:
    arr = np.asarray(value, dtype=object)
    shown = np.array2string(arr, threshold=6) if arr.ndim else repr(value)
    return InvalidInput(
        f"{name}: {shown} {expected}",
        [
            Problem(
                file="arguments", row=None, column=name, value=str(value)[:200], expected=expected
            )
        ],
    )


def finite(name: str, value: object) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(arr)):
        raise _fail(name, value, "must be a finite number")
    return arr


def non_negative(name: str, value: object) -> np.ndarray:
    arr = finite(name, value)
    if np.any(arr < 0):
        raise _fail(name, value, "must be >= 0")
    return arr


def positive(name: str, value: object) -> np.ndarray:
    arr = finite(name, value)
    if np.any(arr <= 0):
        raise _fail(name, value, "must be > 0")
    return arr


def probability(name: str, value: object, *, open_interval: bool = True) -> np.ndarray:
    """A probability strictly inside (0, 1) (or within [0, 1] when open_interval is False)."""
    arr = finite(name, value)
    bad = (arr <= 0) | (arr >= 1) if open_interval else (arr < 0) | (arr > 1)
    if np.any(bad):
        interval = "strictly between 0 and 1" if open_interval else "between 0 and 1"
        raise _fail(name, value, f"must be {interval} (a share, not a percentage)")
    return arr


def invalid(name: str, value: object, expected: str) -> InvalidInput:
    """An InvalidInput for an argument, to raise at the call site."""
    return _fail(name, value, expected)


def scalar_or_array(value: np.ndarray) -> float | np.ndarray:
    """0-d arrays back to Python floats, others unchanged."""
    return float(value) if np.ndim(value) == 0 else value
