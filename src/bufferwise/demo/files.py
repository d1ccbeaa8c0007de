"""Writing the example plant: canonical DataFrames in schema column order, then CSV files.

Dates are written `YYYY-MM-DD`, datetimes `YYYY-MM-DD HH:MM:SS` (naive UTC), whole units as
integers, optional cells left empty; `lineterminator="\\n"` so the bytes do not depend on the
platform.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from bufferwise.demo.machines import BUFFERS, MACHINES, SHIFT, STATE_PRIORITY, MachineRun
from bufferwise.demo.roster import Roster
from bufferwise.demo.supply import OrderLines
from bufferwise.demo.truth import PlantTruth
from bufferwise.model.schema import TABLES


def _date_strings(start: date, days: int) -> np.ndarray:
    return np.datetime_as_string(np.datetime64(start) + np.arange(days), unit="D")


def _datetime_strings(start: date, seconds: np.ndarray) -> np.ndarray:
    stamps = np.datetime64(start, "s") + seconds.astype("timedelta64[s]")
    return np.char.replace(np.datetime_as_string(stamps, unit="s"), "T", " ")


def _frame(name: str, columns: dict[str, object]) -> pd.DataFrame:
    expected = TABLES[name].column_names
    if set(columns) != set(expected):
        raise RuntimeError(f"{name}: generator columns {sorted(columns)} != schema {expected}")
    return pd.DataFrame({c: columns[c] for c in expected})


def items_frame(roster: Roster, ss: np.ndarray, rop: np.ndarray, set_on: list[str]) -> pd.DataFrame:
    return _frame(
        "items",
        {
            "item_id": roster.item_id,
            "description": [
                f"{c.title()} {i}" for c, i in zip(roster.category, roster.item_id, strict=True)
            ],
            "category": roster.category,
            "unit_cost": roster.unit_cost,
            "holding_rate": roster.holding_rate,
            "stockout_cost": roster.stockout_cost,
            "criticality": roster.criticality,
            "supplier_id": roster.supplier_id,
            "nominal_lead_time_days": roster.nominal_lead_time_days.astype(int),
            "review_period_days": roster.review_period_days.astype(int),
            "moq": roster.moq.astype(int),
            "order_multiple": roster.order_multiple.astype(int),
            "order_cost": roster.order_cost.astype(int),
            "current_safety_stock": ss,
            "current_reorder_point": rop,
            "buffer_set_on": set_on,
            "machine_id": roster.machine_id,
        },
    )


def demand_frame(roster: Roster, qty: np.ndarray, returns: np.ndarray, start: date) -> pd.DataFrame:
    n, days = qty.shape
    return _frame(
        "demand",
        {
            "item_id": np.repeat(roster.item_id, days),
            "date": np.tile(_date_strings(start, days), n),
            "quantity": qty.ravel().astype(np.int64),
            "returns": returns.ravel().astype(np.int64),
        },
    )


def receipts_frame(roster: Roster, lines: list[OrderLines], start: date) -> pd.DataFrame:
    counts = [line.order_day.size for line in lines]
    stack = {
        f: np.concatenate([getattr(line, f) for line in lines]).astype(np.int64)
        for f in ("order_day", "promised_day", "received_day", "qty_ordered", "qty_received")
    }
    item = np.repeat(roster.item_id, counts)
    supplier = np.repeat(roster.supplier_id, counts)
    order = np.lexsort((item, stack["order_day"]))
    work = np.char.startswith(supplier[order].astype(str), "LINE-")
    number = np.where(work, np.cumsum(work), np.cumsum(~work))
    po_id = np.where(work, "WO-", "PO-").astype(object) + np.char.zfill(number.astype(str), 6)
    last = max(int(stack["received_day"].max()), int(stack["promised_day"].max()))
    day_strings = _date_strings(start, last + 1)
    return _frame(
        "receipts",
        {
            "po_id": po_id,
            "item_id": item[order],
            "supplier_id": supplier[order],
            "order_date": day_strings[stack["order_day"][order]],
            "promised_date": day_strings[stack["promised_day"][order]],
            "received_date": day_strings[stack["received_day"][order]],
            "qty_ordered": stack["qty_ordered"][order],
            "qty_received": stack["qty_received"][order],
        },
    )


def machine_frames(runs: dict[str, MachineRun], start: date) -> dict[str, pd.DataFrame]:
    machines = _frame(
        "machines",
        {
            "machine_id": [m.machine_id for m in MACHINES],
            "name": [m.name for m in MACHINES],
            "model": [m.model for m in MACHINES],
            "ideal_cycle_time_s": [m.ideal_cycle_time_s for m in MACHINES],
            "planned_hours_per_day": [m.planned_hours_per_day for m in MACHINES],
            "age_years": [m.age_years for m in MACHINES],
        },
    )
    ordered = [runs[m.machine_id] for m in MACHINES]
    events = _frame(
        "machine_events",
        {
            "machine_id": np.concatenate(
                [np.full(r.log.start.size, r.spec.machine_id) for r in ordered]
            ),
            "start": _datetime_strings(start, np.concatenate([r.log.start for r in ordered])),
            "end": _datetime_strings(start, np.concatenate([r.log.end for r in ordered])),
            "state": np.array(STATE_PRIORITY)[np.concatenate([r.log.state for r in ordered])],
            "reason": np.concatenate([r.reasons for r in ordered]),
            "component": np.concatenate([r.components for r in ordered]),
        },
    )
    count_start = np.concatenate([r.count_start for r in ordered])
    counts = _frame(
        "production_counts",
        {
            "machine_id": np.concatenate(
                [np.full(r.total.size, r.spec.machine_id) for r in ordered]
            ),
            "start": _datetime_strings(start, count_start),
            "end": _datetime_strings(start, count_start + SHIFT),
            "total_count": np.concatenate([r.total for r in ordered]).astype(np.int64),
            "good_count": np.concatenate([r.good for r in ordered]).astype(np.int64),
        },
    )
    return {"machines": machines, "machine_events": events, "production_counts": counts}


def wip_frame(levels: dict[str, float], capacities: dict[str, float]) -> pd.DataFrame:
    return _frame(
        "wip_buffers",
        {
            "buffer_id": [b.buffer_id for b in BUFFERS],
            "upstream_machine_id": [b.upstream for b in BUFFERS],
            "downstream_machine_id": [b.downstream for b in BUFFERS],
            "item_id": [b.item_id for b in BUFFERS],
            "current_level": [levels[b.item_id] for b in BUFFERS],
            "capacity": [capacities[b.item_id] for b in BUFFERS],
        },
    )


def write_plant(out_dir: Path, frames: dict[str, pd.DataFrame], truth: PlantTruth) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in TABLES:
        frames[name].to_csv(out_dir / f"{name}.csv", index=False, lineterminator="\n")
    (out_dir / "truth.json").write_text(truth.to_json(), encoding="utf-8")
