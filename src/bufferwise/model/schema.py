"""The canonical tables: one definition, used by ingest (validation), storage (DDL) and docs.

Every real export is mapped onto these tables (see `bufferwise.ingest.mapping`). Units are in
the column name or stated in `unit`. `docs/data-model.md` is generated from / checked against
this module (tests/test_docs.py keeps the two in step).

Column kinds
    str       text identifier or label, stripped; never empty when required
    float     real number (NaN not allowed when required)
    int       whole number
    date      calendar date (YYYY-MM-DD once parsed)
    datetime  timestamp; stored as naive UTC
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["str", "float", "int", "date", "datetime"]

MACHINE_STATES: tuple[str, ...] = (
    "running",  # producing
    "idle",  # available, not asked to produce (not a loss of the machine)
    "down",  # unplanned stop of the machine itself (breakdown, failure, alarm)
    "planned_stop",  # planned maintenance, breaks, no shift
    "setup",  # changeover / adjustment
    "starved",  # waiting for input from upstream (a neighbour's loss, not its own)
    "blocked",  # cannot pass output downstream (a neighbour's loss, not its own)
)

CRITICALITY_LEVELS: tuple[str, ...] = ("low", "medium", "high", "critical")


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    kind: Kind
    description: str
    unit: str = ""
    required: bool = True
    default: object = None
    minimum: float | None = None
    maximum: float | None = None
    allowed: tuple[str, ...] | None = None

    def expected(self) -> str:
        """Human words for what a cell of this column must hold."""
        base = {
            "str": "a non-empty text value",
            "float": "a number",
            "int": "a whole number",
            "date": "a date (expected YYYY-MM-DD)",
            "datetime": "a date and time (expected YYYY-MM-DD HH:MM[:SS])",
        }[self.kind]
        extra = []
        if self.minimum is not None:
            extra.append(f">= {self.minimum:g}")
        if self.maximum is not None:
            extra.append(f"<= {self.maximum:g}")
        if self.allowed:
            return "one of " + ", ".join(self.allowed)
        return base + (" " + " and ".join(extra) if extra else "")


@dataclass(frozen=True, slots=True)
class RowRule:
    """A rule across columns of one row: `left op right` must hold when both are present."""

    code: str
    left: str
    op: Literal[">=", "<="]
    right: str
    expected: str
    severity: Literal["error", "warning"] = "error"


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    references: dict[str, str] = field(default_factory=dict)  # column -> "table.column"
    rules: tuple[RowRule, ...] = ()

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required and c.default is None)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name} has no column {name!r}")


NONNEG = 0.0

ITEMS = Table(
    name="items",
    description="One row per stocked item (part, material, SKU).",
    key=("item_id",),
    columns=(
        Column("item_id", "str", "Item identifier, unique."),
        Column("description", "str", "Free text.", required=False, default=""),
        Column(
            "category",
            "str",
            "Item group for settings overrides and reports.",
            required=False,
            default="",
        ),
        Column(
            "unit_cost",
            "float",
            "Value of one unit held in stock.",
            unit="currency / unit",
            minimum=NONNEG,
        ),
        Column(
            "holding_rate",
            "float",
            "Annual holding cost as a fraction of unit cost; empty = the settings' "
            "default_holding_rate (docs/settings.md).",
            unit="1 / year",
            required=False,
            minimum=NONNEG,
            maximum=5.0,
        ),
        Column(
            "stockout_cost",
            "float",
            "Cost of one unit short (backordered or lost); empty = derived from criticality.",
            unit="currency / unit short",
            required=False,
            minimum=NONNEG,
        ),
        Column(
            "criticality",
            "str",
            "Used when stockout_cost is empty.",
            required=False,
            default="medium",
            allowed=CRITICALITY_LEVELS,
        ),
        Column(
            "supplier_id",
            "str",
            "Main supplier (or the producing machine's line for made items).",
            required=False,
            default="",
        ),
        Column(
            "nominal_lead_time_days",
            "float",
            "Quoted / planned replenishment lead time.",
            unit="days",
            minimum=NONNEG,
        ),
        Column(
            "review_period_days",
            "float",
            "Time between reviews; 0 = continuous review.",
            unit="days",
            required=False,
            default=0.0,
            minimum=NONNEG,
        ),
        Column(
            "moq",
            "float",
            "Minimum order quantity.",
            unit="units",
            required=False,
            default=0.0,
            minimum=NONNEG,
        ),
        Column(
            "order_multiple",
            "float",
            "Orders are whole multiples of this: 1 = whole units, 0 = any quantity.",
            unit="units",
            required=False,
            default=1.0,
            minimum=NONNEG,
        ),
        Column(
            "order_cost",
            "float",
            "Fixed cost of placing one order.",
            unit="currency / order",
            required=False,
            default=0.0,
            minimum=NONNEG,
        ),
        Column(
            "current_safety_stock",
            "float",
            "Safety stock in force today.",
            unit="units",
            required=False,
            minimum=NONNEG,
        ),
        Column(
            "current_reorder_point",
            "float",
            "Reorder point in force today.",
            unit="units",
            required=False,
            minimum=NONNEG,
        ),
        Column("buffer_set_on", "date", "When the current buffer was last set.", required=False),
        Column(
            "machine_id",
            "str",
            "Machine that makes or consumes this item.",
            required=False,
            default="",
        ),
    ),
)

DEMAND = Table(
    name="demand",
    description="Demand per item per period (bucket start date). Returns are kept apart, never netted.",
    key=("item_id", "date"),
    references={"item_id": "items.item_id"},
    columns=(
        Column("item_id", "str", "Item identifier."),
        Column(
            "date",
            "date",
            "Start of the demand bucket (a day, or the first day of a week / month).",
        ),
        Column("quantity", "float", "Units demanded in the bucket.", unit="units", minimum=NONNEG),
        Column(
            "returns",
            "float",
            "Units returned in the bucket (not netted from quantity).",
            unit="units",
            required=False,
            default=0.0,
            minimum=NONNEG,
        ),
    ),
)

RECEIPTS = Table(
    name="receipts",
    description="Purchase-order lines as ordered, promised and received.",
    key=("po_id", "item_id"),
    references={"item_id": "items.item_id"},
    rules=(
        RowRule(
            "received_before_ordered",
            "received_date",
            ">=",
            "order_date",
            "received_date on or after order_date",
        ),
        RowRule(
            "promised_before_ordered",
            "promised_date",
            ">=",
            "order_date",
            "promised_date on or after order_date",
        ),
    ),
    columns=(
        Column("po_id", "str", "Purchase-order (line) identifier."),
        Column("item_id", "str", "Item identifier."),
        Column("supplier_id", "str", "Supplier identifier."),
        Column("order_date", "date", "Date the order was placed with the supplier."),
        Column("promised_date", "date", "Delivery date promised / scheduled.", required=False),
        Column("received_date", "date", "Date the goods were received."),
        Column("qty_ordered", "float", "Units ordered.", unit="units", minimum=NONNEG),
        Column(
            "qty_received", "float", "Units received.", unit="units", required=False, minimum=NONNEG
        ),
    ),
)

MACHINES = Table(
    name="machines",
    description="Machines (assets) whose reliability bears on buffers.",
    key=("machine_id",),
    columns=(
        Column("machine_id", "str", "Machine identifier."),
        Column("name", "str", "Display name.", required=False, default=""),
        Column("model", "str", "Model / type.", required=False, default=""),
        Column(
            "ideal_cycle_time_s",
            "float",
            "Ideal (fastest sustainable) time per unit.",
            unit="seconds / unit",
            required=False,
            minimum=NONNEG,
        ),
        Column(
            "planned_hours_per_day",
            "float",
            "Planned production time per calendar day.",
            unit="hours / day",
            required=False,
            default=24.0,
            minimum=NONNEG,
            maximum=24.0,
        ),
        Column(
            "age_years",
            "float",
            "Age of the machine.",
            unit="years",
            required=False,
            minimum=NONNEG,
        ),
    ),
)

MACHINE_EVENTS = Table(
    name="machine_events",
    description="State log: intervals in which a machine was in one state. start == end marks an instantaneous event (e.g. a failure whose repair time is unknown).",
    key=("machine_id", "start", "state", "component"),
    references={"machine_id": "machines.machine_id"},
    rules=(RowRule("end_before_start", "end", ">=", "start", "end on or after start"),),
    columns=(
        Column("machine_id", "str", "Machine identifier."),
        Column("start", "datetime", "Interval start (UTC)."),
        Column("end", "datetime", "Interval end (UTC)."),
        Column("state", "str", "Machine state.", allowed=MACHINE_STATES),
        Column(
            "reason",
            "str",
            "Reason / code (e.g. failure, maintenance, alarm text).",
            required=False,
            default="",
        ),
        Column(
            "component",
            "str",
            "Component concerned, when the source names one.",
            required=False,
            default="",
        ),
    ),
)

PRODUCTION_COUNTS = Table(
    name="production_counts",
    description="Units produced per interval, total and good.",
    key=("machine_id", "start"),
    references={"machine_id": "machines.machine_id"},
    rules=(
        RowRule("end_before_start", "end", ">=", "start", "end on or after start"),
        RowRule("good_above_total", "good_count", "<=", "total_count", "good_count <= total_count"),
    ),
    columns=(
        Column("machine_id", "str", "Machine identifier."),
        Column("start", "datetime", "Interval start (UTC)."),
        Column("end", "datetime", "Interval end (UTC)."),
        Column("total_count", "float", "Units produced.", unit="units", minimum=NONNEG),
        Column("good_count", "float", "Units good first time.", unit="units", minimum=NONNEG),
    ),
)

WIP_BUFFERS = Table(
    name="wip_buffers",
    description="Work-in-process buffers between two machines.",
    key=("buffer_id",),
    references={
        "upstream_machine_id": "machines.machine_id",
        "downstream_machine_id": "machines.machine_id",
    },
    columns=(
        Column("buffer_id", "str", "Buffer identifier."),
        Column("upstream_machine_id", "str", "Machine feeding the buffer."),
        Column("downstream_machine_id", "str", "Machine drawing from the buffer."),
        Column("item_id", "str", "Item held in the buffer.", required=False, default=""),
        Column(
            "current_level",
            "float",
            "Units held today (or the buffer's capacity).",
            unit="units",
            minimum=NONNEG,
        ),
        Column(
            "capacity",
            "float",
            "Maximum units the buffer can hold.",
            unit="units",
            required=False,
            minimum=NONNEG,
        ),
    ),
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (ITEMS, DEMAND, RECEIPTS, MACHINES, MACHINE_EVENTS, PRODUCTION_COUNTS, WIP_BUFFERS)
}


def table(name: str) -> Table:
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(f"unknown table {name!r}; expected one of {', '.join(TABLES)}") from None
