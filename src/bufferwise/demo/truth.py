"""The example plant's ground truth: what the generator planted, so that tests can check it.

`truth.json` is `PlantTruth.to_dict()` written with sorted keys; `read_truth` reads it back.
Every number a diagnostic might be tested against is recorded here with its units.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

MISTAKE_CODES: tuple[str, ...] = (
    "dogmatic_jit",
    "lazy_jic",
    "one_policy_for_all",
    "set_and_forget",
    "hidden_loss",
)

DEMAND_CLASSES: tuple[str, ...] = ("smooth", "erratic", "intermittent", "lumpy")


@dataclass(frozen=True, slots=True)
class ItemTruth:
    """What was planted for one item.

    demand_class          intended Syntetos-Boylan class on the daily bucket (the generator
                          redraws a series until the measured class matches)
    adi, cv2              the measured values on the daily bucket (ADI = mean gap between
                          non-zero days, CV² = population variance / mean² of non-zero sizes)
    mistakes              planted mistake codes (subset of MISTAKE_CODES)
    well_sized            stable item whose current buffer is the textbook one; never a mistake
    role                  the group the item was drawn for (e.g. "well_sized", "unlabelled")
    textbook_safety_stock z(0.95) * sqrt(L * sigma_d² + d² * sigma_L²)  [units], with d and
                          sigma_d per calendar day over the whole history and L, sigma_L the
                          item's measured order-to-receipt lead time [days]
    features              trend_per_horizon, seasonal_amplitude, obsolete_from (date or None),
                          outlier_dates, returns_days, planted_demand_ratio and
                          planted_lead_time_ratio (1 = none), drift_from (date or None), the
                          measured demand_level_ratio and lead_time_ratio (second half / first
                          half of the history) and first_half_textbook_safety_stock
    """

    item_id: str
    category: str
    demand_class: str
    adi: float
    cv2: float
    supplier_id: str
    machine_id: str
    role: str
    mistakes: tuple[str, ...]
    well_sized: bool
    fed_by_unreliable_machine: bool
    current_safety_stock: float
    current_reorder_point: float
    buffer_set_on: str
    textbook_safety_stock: float
    mean_daily_demand: float
    sd_daily_demand: float
    lead_time_mean_days: float
    lead_time_sd_days: float
    days_of_cover: float
    features: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SupplierTruth:
    """One supplier's delivery model.

    on_time_probability  chance that a line outside an outage arrives on or before promise
    late_days_mean       mean lateness of a late line [days]
    outages              [start, end] dates (inclusive start, exclusive end): deliveries that
                         would fall inside are held and arrive on `end` plus 0-3 days
    measured_on_time     share of generated lines with received_date <= promised_date
    """

    supplier_id: str
    name: str
    distance: str
    nominal_lead_time_days: float
    on_time_probability: float
    late_days_mean: float
    short_delivery_probability: float
    outages: tuple[tuple[str, str], ...]
    measured_on_time: float
    lines: int


@dataclass(frozen=True, slots=True)
class MachineTruth:
    """One machine's failure, repair and speed model.

    Up times are Weibull(shape, scale) in calendar hours; repairs lognormal with
    E[repair] = mttr_hours and log-sd repair_sigma. inherent_availability is
    mtbf / (mtbf + mttr). measured_availability = 1 - down / (calendar - planned_stop).
    ideal_cycle_time_s is what machines.csv says; true_cycle_time_s is the real fastest cycle
    (they differ only where mis_set_ideal_cycle_time is true: performance then reads > 100%).
    """

    machine_id: str
    name: str
    line: str
    position: int
    weibull_shape: float
    weibull_scale_hours: float
    mtbf_hours: float
    mttr_hours: float
    repair_sigma: float
    inherent_availability: float
    measured_availability: float
    failures: int
    ideal_cycle_time_s: float
    true_cycle_time_s: float
    performance: float
    quality: float
    mis_set_ideal_cycle_time: bool
    reliability: str


@dataclass(frozen=True, slots=True)
class BufferTruth:
    """One WIP buffer. cover_hours = current_level / downstream rate; masked_down_hours = sum
    over upstream breakdowns of min(duration, cover_hours): the downtime the buffer hides."""

    buffer_id: str
    upstream_machine_id: str
    downstream_machine_id: str
    item_id: str
    current_level: float
    capacity: float
    cover_hours: float
    upstream_down_hours: float
    masked_down_hours: float
    hidden_loss: bool


@dataclass(frozen=True, slots=True)
class PlantTruth:
    """Everything the generator planted. `items`, `suppliers`, `machines`, `buffers` are keyed
    by id. one_policy_days_of_cover is the shared cover of the one_policy_for_all group."""

    seed: int
    generator_version: str
    start: str
    days: int
    items: dict[str, ItemTruth]
    suppliers: dict[str, SupplierTruth]
    machines: dict[str, MachineTruth]
    buffers: dict[str, BufferTruth]
    unreliable_machine_id: str
    hidden_loss_buffer_id: str
    one_policy_group: tuple[str, ...]
    one_policy_days_of_cover: float
    service_level: float
    planting_rules: dict[str, str]

    def items_with(self, code: str) -> list[str]:
        """Item ids that carry the planted mistake `code`, sorted."""
        return sorted(i for i, t in self.items.items() if code in t.mistakes)

    def well_sized_items(self) -> list[str]:
        return sorted(i for i, t in self.items.items() if t.well_sized)

    def items_fed_by(self, machine_id: str) -> list[str]:
        return sorted(i for i, t in self.items.items() if t.machine_id == machine_id)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, sort_keys=True) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PlantTruth:
        items = {
            k: ItemTruth(**{**v, "mistakes": tuple(v["mistakes"])})
            for k, v in data["items"].items()
        }
        suppliers = {
            k: SupplierTruth(**{**v, "outages": tuple(tuple(o) for o in v["outages"])})
            for k, v in data["suppliers"].items()
        }
        machines = {k: MachineTruth(**v) for k, v in data["machines"].items()}
        buffers = {k: BufferTruth(**v) for k, v in data["buffers"].items()}
        rest = {
            k: v for k, v in data.items() if k not in {"items", "suppliers", "machines", "buffers"}
        }
        rest["one_policy_group"] = tuple(rest["one_policy_group"])
        return cls(items=items, suppliers=suppliers, machines=machines, buffers=buffers, **rest)


def read_truth(path: Path) -> PlantTruth:
    """Read `truth.json` (or a folder holding it) back into a `PlantTruth`."""
    file = path / "truth.json" if path.is_dir() else path
    return PlantTruth.from_dict(json.loads(file.read_text(encoding="utf-8")))
