"""The one home of what holding and a stockout cost per item.

Holding: items.holding_rate [1 / year, share of unit cost] where it is given, else a default
(`holding_rates`; the plant's default is settings [costs] default_holding_rate, which starts
from DEFAULT_HOLDING_RATE).

Stockout: items.stockout_cost where it is given, else a multiple of unit cost.

A unit short costs `stockout_cost` [money per unit short] when the items table gives it. When it
is empty, it is derived from the item's criticality as a multiple of its unit cost:

    criticality   multiple of unit cost per unit short
    low           0.5
    medium        2
    high          7
    critical      25

The multiples sit in the middle of the ranges planners quote (a low-criticality shortage is an
expediting fee; a critical one stops a line) and match the example plant's generator (0.3-1,
1-3, 4-10, 15-40). Pass your own table to `stockout_costs` to override it; an items column
`stockout_cost_multiple` (ITEM_STOCKOUT_MULTIPLE) gives an item its own multiple instead (the
settings' per-group overrides, resolved by services.sizing.resolve_item_inputs).
"""

from __future__ import annotations

import math
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

#: [1 / year, share of unit cost] holding rate of an item that gives none, when the caller names
#: no other default: 25 % a year is the middle of the 20-30 % that carrying-cost figures usually
#: quote (cost of capital, storage, insurance, obsolescence). Settings [costs]
#: default_holding_rate starts from it.
DEFAULT_HOLDING_RATE = 0.25

#: optional items column: the item's own multiple of unit cost per unit short, used instead of
#: the criticality table when its stockout_cost is empty (NaN = the table)
ITEM_STOCKOUT_MULTIPLE = "stockout_cost_multiple"


def holding_rates(items: pd.DataFrame, default: float = DEFAULT_HOLDING_RATE) -> np.ndarray:
    """Holding rate [1 / year, share of unit cost] per row of `items`: items.holding_rate where
    it is given, else `default` (an empty cell, or no such column). Raises InvalidInput for a
    negative rate."""
    if not (math.isfinite(default) and default >= 0):
        raise InvalidInput(f"default holding rate {default!r}: must be a number >= 0")
    if "holding_rate" not in items.columns:
        return np.full(len(items), float(default))
    given = pd.to_numeric(items["holding_rate"], errors="coerce").to_numpy(dtype=float)
    if (given < 0).any():
        row = int(np.flatnonzero(given < 0)[0]) + 1
        raise InvalidInput(
            f"items row {row}, column holding_rate: {given[row - 1]:g} must be a number >= 0 "
            "(annual share of unit cost; empty = the default)"
        )
    return np.where(np.isfinite(given), given, float(default))


def item_stockout_multiples(
    items: pd.DataFrame, multiples: Mapping[str, float] | None = None
) -> np.ndarray:
    """Multiple of unit cost per unit short per row of `items`: its own ITEM_STOCKOUT_MULTIPLE
    where that is a number >= 0, else `multiples` (default DEFAULT_STOCKOUT_MULTIPLE) by its
    criticality (empty = "medium"). Raises InvalidInput for an unknown criticality."""
    table = dict(DEFAULT_STOCKOUT_MULTIPLE if multiples is None else multiples)
    missing = [c for c in CRITICALITY_LEVELS if c not in table]
    if missing:
        raise InvalidInput(f"stockout multiples lack criticality level(s) {', '.join(missing)}")
    crit = criticality(items)
    bad = sorted({c for c in crit if c not in table})
    if bad:
        raise InvalidInput(
            f"items: criticality {bad[0]!r} is not one of {', '.join(CRITICALITY_LEVELS)}"
        )
    by_level = np.array([table[c] for c in crit], dtype=float)
    if ITEM_STOCKOUT_MULTIPLE not in items.columns:
        return by_level
    own = pd.to_numeric(items[ITEM_STOCKOUT_MULTIPLE], errors="coerce").to_numpy(dtype=float)
    return np.where(np.isfinite(own) & (own >= 0), own, by_level)


def stockout_costs(
    items: pd.DataFrame, multiples: Mapping[str, float] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(stockout cost per unit short [money], derived?) per row of `items`.

    Uses items.stockout_cost where it is a number >= 0; otherwise unit_cost x the item's
    `item_stockout_multiples` (its own ITEM_STOCKOUT_MULTIPLE, else multiples[criticality],
    criticality empty = "medium"). Raises InvalidInput for an unknown criticality.
    """
    return stockout_costs_at(items, item_stockout_multiples(items, multiples))


def stockout_costs_at(items: pd.DataFrame, multiple: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(stockout cost per unit short [money], derived?) per row of `items`, with each row's
    multiple of unit cost already resolved (`multiple`, e.g. `item_stockout_multiples`):
    items.stockout_cost where it is a number >= 0, else unit_cost x multiple."""
    unit = pd.to_numeric(items["unit_cost"], errors="coerce").to_numpy(dtype=float)
    given = (
        pd.to_numeric(items["stockout_cost"], errors="coerce").to_numpy(dtype=float)
        if "stockout_cost" in items.columns
        else np.full(len(items), np.nan)
    )
    derived = unit * np.asarray(multiple, dtype=float)
    use_given = np.isfinite(given) & (given >= 0)
    return np.where(use_given, given, derived), ~use_given


def price_items(
    items: pd.DataFrame,
    default_holding_rate: float = DEFAULT_HOLDING_RATE,
    multiples: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """`items` as priced: holding_rate (`holding_rates`) and ITEM_STOCKOUT_MULTIPLE
    (`item_stockout_multiples`) resolved for every row, so that whatever reads them
    (decide/risk.py, scenarios) prices every item alike."""
    return items.assign(
        holding_rate=holding_rates(items, default_holding_rate),
        **{ITEM_STOCKOUT_MULTIPLE: item_stockout_multiples(items, multiples)},
    )


def criticality(items: pd.DataFrame) -> np.ndarray:
    """Criticality per row (lower-case; empty = "medium")."""
    if "criticality" not in items.columns:
        return np.full(len(items), DEFAULT_CRITICALITY, dtype=object)
    raw = items["criticality"].astype(object).where(items["criticality"].notna(), "")
    vals = np.array([str(v).strip().lower() for v in raw], dtype=object)
    return np.where(vals == "", DEFAULT_CRITICALITY, vals)


__all__ = [
    "DEFAULT_CRITICALITY",
    "DEFAULT_HOLDING_RATE",
    "DEFAULT_STOCKOUT_MULTIPLE",
    "ITEM_STOCKOUT_MULTIPLE",
    "criticality",
    "holding_rates",
    "item_stockout_multiples",
    "price_items",
    "stockout_costs",
    "stockout_costs_at",
]
