"""The one home of "what does a stockout cost": items.stockout_cost, else a criticality table.

A unit short costs `stockout_cost` [money per unit short] when the items table gives it. When it
is empty, it is derived from the item's criticality as a multiple of its unit cost:

    criticality   multiple of unit cost per unit short
    low           0.5
    medium        2
    high          7
    critical      25

The multiples sit in the middle of the ranges planners quote (a low-criticality shortage is an
expediting fee; a critical one stops a line) and match the example plant's generator (0.3-1,
1-3, 4-10, 15-40). Pass your own table to `stockout_costs` to override it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from bufferwise.errors import InvalidInput
from bufferwise.model.schema import CRITICALITY_LEVELS

DEFAULT_STOCKOUT_MULTIPLE: Mapping[str, float] = {
    "low": 0.5,
    "medium": 2.0,
    "high": 7.0,
    "critical": 25.0,
}
DEFAULT_CRITICALITY = "medium"


def stockout_costs(
    items: pd.DataFrame, multiples: Mapping[str, float] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(stockout cost per unit short [money], derived?) per row of `items`.

    Uses items.stockout_cost where it is a number >= 0; otherwise unit_cost x multiples[
    criticality] (criticality empty = "medium"). Raises InvalidInput for an unknown criticality.
    """
    table = dict(DEFAULT_STOCKOUT_MULTIPLE if multiples is None else multiples)
    missing = [c for c in CRITICALITY_LEVELS if c not in table]
    if missing:
        raise InvalidInput(f"stockout multiples lack criticality level(s) {', '.join(missing)}")
    unit = pd.to_numeric(items["unit_cost"], errors="coerce").to_numpy(dtype=float)
    given = (
        pd.to_numeric(items["stockout_cost"], errors="coerce").to_numpy(dtype=float)
        if "stockout_cost" in items.columns
        else np.full(len(items), np.nan)
    )
    crit = criticality(items)
    bad = sorted({c for c in crit if c not in table})
    if bad:
        raise InvalidInput(
            f"items: criticality {bad[0]!r} is not one of {', '.join(CRITICALITY_LEVELS)}"
        )
    derived = unit * np.array([table[c] for c in crit], dtype=float)
    use_given = np.isfinite(given) & (given >= 0)
    return np.where(use_given, given, derived), ~use_given


def criticality(items: pd.DataFrame) -> np.ndarray:
    """Criticality per row (lower-case; empty = "medium")."""
    if "criticality" not in items.columns:
        return np.full(len(items), DEFAULT_CRITICALITY, dtype=object)
    raw = items["criticality"].astype(object).where(items["criticality"].notna(), "")
    vals = np.array([str(v).strip().lower() for v in raw], dtype=object)
    return np.where(vals == "", DEFAULT_CRITICALITY, vals)


__all__ = ["DEFAULT_CRITICALITY", "DEFAULT_STOCKOUT_MULTIPLE", "criticality", "stockout_costs"]
