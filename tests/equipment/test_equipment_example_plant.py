"""The example plant (bufferwise.demo, written by the plant generator): the equipment analysis
recovers the planted machine truth, reports the unreliable machine's buffer with its hidden
loss, and hands the outage process to the items it makes. Tables are read from the CSV files
the generator writes, as a user's export would be."""

from __future__ import annotations

import pandas as pd
import pytest

from bufferwise.equipment import MACHINE_COLUMNS, analyze_equipment

demo = pytest.importorskip("bufferwise.demo")


@pytest.fixture(scope="module")
def plant(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("equipment_plant")
    truth = demo.generate_plant(out)

    def read(name: str, dates: tuple[str, ...] = ()) -> pd.DataFrame:
        return pd.read_csv(
            out / f"{name}.csv", parse_dates=list(dates), keep_default_na=False, na_values=[""]
        )

    tables = {
        "machines": read("machines"),
        "machine_events": read("machine_events", ("start", "end")),
        "production_counts": read("production_counts", ("start", "end")),
        "wip_buffers": read("wip_buffers"),
        "items": read("items"),
    }
    tables["items"]["machine_id"] = tables["items"]["machine_id"].fillna("")
    report = analyze_equipment(
        tables["machines"],
        tables["machine_events"],
        tables["production_counts"],
        tables["wip_buffers"],
        seed=7,
        items=tables["items"],
    )
    return truth, report


def test_failures_and_mtbf_match_the_planted_truth(plant) -> None:
    truth, report = plant
    m = report.machines.set_index("machine_id")
    assert tuple(report.machines.columns[: len(MACHINE_COLUMNS)]) == MACHINE_COLUMNS
    for mid, t in truth.machines.items():
        assert m.loc[mid, "failures"] == t.failures
        # the planted mean up time lies inside the measured MTBF's 90% interval
        assert m.loc[mid, "mtbf_lower_hours"] <= t.mtbf_hours <= m.loc[mid, "mtbf_upper_hours"]
        assert m.loc[mid, "mttr_hours"] == pytest.approx(t.mttr_hours, rel=0.15)
        assert m.loc[mid, "weibull_shape"] == pytest.approx(t.weibull_shape, abs=0.15)
        # a mis-set ideal cycle time shows as performance above 100%, flagged
        assert bool(m.loc[mid, "performance_flag"]) == t.mis_set_ideal_cycle_time


def test_unreliable_machine_is_not_ready_and_its_buffer_hides_loss(plant) -> None:
    truth, report = plant
    m = report.machines.set_index("machine_id")
    worst = min(truth.machines.values(), key=lambda t: t.inherent_availability).machine_id
    assert m.loc[worst, "jit_readiness"] == "not_ready"
    assert m["inherent_availability"].idxmin() == worst
    b = report.buffers.set_index("buffer_id")
    hidden = [k for k, t in truth.buffers.items() if t.hidden_loss]
    assert hidden and all(truth.buffers[k].upstream_machine_id == worst for k in hidden)
    for k in hidden:
        assert b.loc[k, "hidden_loss_hours"] > 0
        assert b.loc[k, "hidden_loss_hours"] == b["hidden_loss_hours"].max()
        assert b.loc[k, "line_efficiency_current"] > b.loc[k, "line_efficiency_no_buffer"]


def test_items_made_on_the_unreliable_machine_carry_its_outages(plant) -> None:
    truth, report = plant
    worst = min(truth.machines.values(), key=lambda t: t.inherent_availability).machine_id
    t = truth.machines[worst]
    processes = [p for p in report.item_outages.values() if p.machine_id == worst]
    assert processes
    p = processes[0]
    days = p.observed_days
    assert p.failures_observed == t.failures
    assert p.outage_rate_per_year == pytest.approx(t.failures / days * 365)
    assert p.mean_outage_days == pytest.approx(t.mttr_hours / 24, rel=0.15)
    others = [q for q in report.item_outages.values() if q.machine_id != worst]
    assert all(p.expected_outage_days_per_year > q.expected_outage_days_per_year for q in others)
