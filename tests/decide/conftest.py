"""The example plant (generator default seed) decided once per session.

The plant is generated into a temporary folder, its CSVs are read back with pandas (dates
parsed) exactly as a user would, the machines' outage processes come from the equipment layer,
and `decide_items` runs once on all 240 items; the wall time is recorded for the speed test.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from bufferwise.decide import Decisions, decide_items
from bufferwise.demo import DEFAULT_SEED, PlantTruth, generate_plant
from bufferwise.equipment import item_outage_processes, reliability_by_machine
from bufferwise.equipment.item_risk import SupplyOutageProcess

DECIDE_SEED = 20261127


@dataclass
class Plant:
    folder: Path
    truth: PlantTruth
    items: pd.DataFrame
    demand: pd.DataFrame
    receipts: pd.DataFrame
    equipment_risk: dict[str, SupplyOutageProcess]


@dataclass
class Decided:
    plant: Plant
    decisions: Decisions
    seconds: float


def load_plant(folder: Path, truth: PlantTruth) -> Plant:
    items = pd.read_csv(folder / "items.csv", parse_dates=["buffer_set_on"])
    demand = pd.read_csv(folder / "demand.csv", parse_dates=["date"])
    receipts = pd.read_csv(
        folder / "receipts.csv", parse_dates=["order_date", "promised_date", "received_date"]
    )
    events = pd.read_csv(folder / "machine_events.csv", parse_dates=["start", "end"])
    risk = item_outage_processes(items, reliability_by_machine(events))
    return Plant(folder, truth, items, demand, receipts, risk)


@pytest.fixture(scope="session")
def plant(tmp_path_factory: pytest.TempPathFactory) -> Plant:
    folder = tmp_path_factory.mktemp("plant")
    truth = generate_plant(folder, seed=DEFAULT_SEED)
    return load_plant(folder, truth)


@pytest.fixture(scope="session")
def decided(plant: Plant) -> Decided:
    start = time.perf_counter()
    decisions = decide_items(
        plant.items,
        plant.demand,
        plant.receipts,
        equipment_risk=plant.equipment_risk,
        seed=DECIDE_SEED,
    )
    return Decided(plant, decisions, time.perf_counter() - start)
