"""Invariants of the stance (hypothesis, few examples), on a handful of example-plant items
(docs/decide.md, "Stances"):

- raising an item's stockout cost never moves it toward JIT;
- making its supplier more reliable (every late receipt less late) never moves it toward JIC;
- when a change of one driver flips the stance, the explanation states that driver with its new
  number.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bufferwise.decide import DecideSettings, analyse, explain, stockout_costs
from bufferwise.decide.analysis import Analysis
from bufferwise.profile import profile_all

from .conftest import Plant

FAST = settings(max_examples=6, deadline=None)
SMALL = DecideSettings(sim_years=4.0, grid_points=12)
SEED = 11


@dataclass
class Subset:
    items: pd.DataFrame
    demand: pd.DataFrame
    receipts: pd.DataFrame
    base: Analysis


def _pick(plant: Plant) -> list[str]:
    """One item of each kind: far-supplier risky, a one-policy item of a mid supplier, a lazy
    near-supplier item, a well-sized one, and a critical unlabelled one."""
    t = plant.truth
    critical = plant.items[
        (plant.items["criticality"] == "critical")
        & plant.items["item_id"].isin([i for i, x in t.items.items() if x.role == "unlabelled"])
    ]["item_id"]
    mid = [i for i in t.one_policy_group if t.items[i].supplier_id in ("S03", "S04")]
    return [
        t.items_with("dogmatic_jit")[0],
        mid[0],
        t.items_with("lazy_jic")[0],
        t.well_sized_items()[0],
        str(critical.iloc[0]),
    ]


def _run(items: pd.DataFrame, demand: pd.DataFrame, receipts: pd.DataFrame) -> Analysis:
    return analyse(items, demand, receipts, settings=SMALL, seed=SEED)


@pytest.fixture(scope="module")
def subset(plant: Plant) -> Subset:
    keep = _pick(plant)
    items = plant.items[plant.items["item_id"].isin(keep)].reset_index(drop=True)
    cost, _ = stockout_costs(items)
    items = items.assign(stockout_cost=cost)  # explicit, so that it can be scaled
    demand = plant.demand[plant.demand["item_id"].isin(keep)]
    receipts = plant.receipts[plant.receipts["item_id"].isin(keep)]
    return Subset(items, demand, receipts, _run(items, demand, receipts))


def _more_reliable(receipts: pd.DataFrame, supplier: str, keep: float) -> pd.DataFrame:
    """Every late receipt of `supplier` arrives `keep` x as late (rounded to whole days)."""
    r = receipts.copy()
    mine = (r["supplier_id"] == supplier) & (r["received_date"] > r["promised_date"])
    late = (r.loc[mine, "received_date"] - r.loc[mine, "promised_date"]).dt.days
    r.loc[mine, "received_date"] = r.loc[mine, "promised_date"] + pd.to_timedelta(
        np.round(late * keep), unit="D"
    )
    return r


@FAST
@given(factor=st.floats(1.5, 40.0), which=st.integers(0, 4))
def test_higher_stockout_cost_never_moves_toward_jit(
    subset: Subset, factor: float, which: int
) -> None:
    items = subset.items.copy()
    items.loc[which, "stockout_cost"] *= factor
    after = _run(items, subset.demand, subset.receipts)
    assert after.stance_index[which] >= subset.base.stance_index[which]


@FAST
@given(keep=st.floats(0.0, 0.8), which=st.integers(0, 4))
def test_more_reliable_supplier_never_moves_toward_jic(
    subset: Subset, keep: float, which: int
) -> None:
    supplier = str(subset.items.loc[which, "supplier_id"])
    receipts = _more_reliable(subset.receipts, supplier, keep)
    after = _run(subset.items, subset.demand, receipts)
    same = (subset.items["supplier_id"] == supplier).to_numpy()
    assert np.all(after.stance_index[same] <= subset.base.stance_index[same])


def test_explanation_names_the_stockout_cost_that_flipped_the_stance(subset: Subset) -> None:
    base = subset.base
    which = int(np.argmax(base.stance_index))  # the item furthest from JIT
    assert base.stance_index[which] > 0
    for factor in (0.3, 0.1, 0.03, 0.01, 0.003, 0.001, 0.0003):
        items = subset.items.copy()
        items.loc[which, "stockout_cost"] *= factor
        after = _run(items, subset.demand, subset.receipts)
        if after.stance_index[which] < base.stance_index[which]:
            break
    else:
        pytest.fail("no stockout cost flipped the stance")
    b = float(items.loc[which, "stockout_cost"])
    h = float(items.loc[which, "unit_cost"] * items.loc[which, "holding_rate"])
    text = explain(after)[which]
    assert f"a stockout costs {b / h:,.0f}x a year's holding" in text
    assert f"a stockout costs {b / h:,.0f}x" not in explain(base)[which]


def test_explanation_names_the_supplier_whose_reliability_flipped_the_stance(
    subset: Subset,
) -> None:
    base = subset.base
    risky = [i for i in range(len(subset.items)) if base.stance_index[i] >= 1]
    for which in risky:
        supplier = str(subset.items.loc[which, "supplier_id"])
        for keep in (0.5, 0.2, 0.0):
            receipts = _more_reliable(subset.receipts, supplier, keep)
            after = _run(subset.items, subset.demand, receipts)
            if after.stance_index[which] < base.stance_index[which]:
                prof = profile_all(
                    subset.demand, receipts, subset.items, bucket="day", forecast=False
                )
                row = prof.supply[
                    (prof.supply["supplier_id"] == supplier) & (prof.supply["item_id"] == "")
                ].iloc[0]
                late = 1.0 - float(row["on_time_rate"])
                text = explain(after)[which]
                assert f"supplier {supplier} delivered {late:.0%} of orders late" in text
                return
    pytest.fail("no supplier change flipped a stance among the sampled items")
