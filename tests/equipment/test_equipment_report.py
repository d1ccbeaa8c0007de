"""analyze_equipment on a synthetic three-machine plant: stable columns, readiness, buffers,
hidden loss and the outage process handed to the items."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bufferwise.equipment import (
    BUFFER_COLUMNS,
    MACHINE_COLUMNS,
    OeeConventions,
    analyze_equipment,
    buffer_after_improvement,
    hidden_loss,
    jit_readiness,
    simulate_measured_line,
)

T0 = pd.Timestamp("2024-01-01")
YEAR_H = 8760.0
# machine -> (MTBF h, MTTR h): A feeds B through buffer B1; C stands alone
PLANT = {"A": (20.0, 2.0), "B": (1000.0, 1.0), "C": (7.0, 3.0)}
# parts per hour while up: A (ideal cycle 60 s, run at 90%) has spare speed over B (75 s, 90%)
IDEAL_CYCLE_S = {"A": 60.0, "B": 75.0, "C": 60.0}
SPEED = 0.9
RATE_A, RATE_B = 3600 / 60 * SPEED, 3600 / 75 * SPEED


def _plant(seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ev_rows, count_rows = [], []
    for mid, (mtbf, mttr) in PLANT.items():
        t = 0.0
        while t < YEAR_H:
            up = min(rng.exponential(mtbf), YEAR_H - t)
            ev_rows.append((mid, t, t + up, "running"))
            count_rows.append((mid, t, t + up, up * 3600 / IDEAL_CYCLE_S[mid] * SPEED))
            t += up
            if t >= YEAR_H:
                break
            down = min(rng.exponential(mttr), YEAR_H - t)
            ev_rows.append((mid, t, t + down, "down"))
            t += down
    ev = pd.DataFrame(ev_rows, columns=["machine_id", "s", "e", "state"])
    events = pd.DataFrame(
        {
            "machine_id": ev["machine_id"],
            "start": T0 + pd.to_timedelta(ev["s"], unit="h"),
            "end": T0 + pd.to_timedelta(ev["e"], unit="h"),
            "state": ev["state"],
        }
    )
    cn = pd.DataFrame(count_rows, columns=["machine_id", "s", "e", "n"])
    counts = pd.DataFrame(
        {
            "machine_id": cn["machine_id"],
            "start": T0 + pd.to_timedelta(cn["s"], unit="h"),
            "end": T0 + pd.to_timedelta(cn["e"], unit="h"),
            "total_count": cn["n"].astype(float),
            "good_count": cn["n"].astype(float),
        }
    )
    machines = pd.DataFrame(
        {
            "machine_id": list(PLANT),
            "ideal_cycle_time_s": [IDEAL_CYCLE_S[m] for m in PLANT],
            "planned_hours_per_day": 24.0,
        }
    )
    buffers = pd.DataFrame(
        {
            "buffer_id": ["B1"],
            "upstream_machine_id": ["A"],
            "downstream_machine_id": ["B"],
            "item_id": ["widget"],
            "current_level": [20.0],
            "capacity": [500.0],
        }
    )
    return machines, events, counts, buffers


@pytest.fixture(scope="module")
def report():
    machines, events, counts, buffers = _plant()
    items = pd.DataFrame({"item_id": ["widget", "bolt", "loose"], "machine_id": ["A", "C", ""]})
    conv = OeeConventions(micro_stop_threshold_s=0.0)
    return analyze_equipment(machines, events, counts, buffers, conv, 0.95, seed=42, items=items)


def test_stable_columns_come_first(report) -> None:
    assert tuple(report.machines.columns[: len(MACHINE_COLUMNS)]) == MACHINE_COLUMNS
    assert tuple(report.buffers.columns[: len(BUFFER_COLUMNS)]) == BUFFER_COLUMNS
    assert list(report.machines["machine_id"]) == ["A", "B", "C"]
    assert report.conventions_used[0].startswith("OEE = availability x performance x quality")


def test_measured_reliability_is_close_to_the_generating_figures(report) -> None:
    m = report.machines.set_index("machine_id")
    for mid, (mtbf, mttr) in PLANT.items():
        row = m.loc[mid]
        assert row["mtbf_lower_hours"] <= mtbf <= row["mtbf_upper_hours"] or mid == "B"
        if mid != "B":  # B fails ~9 times a year: too few for a tight MTTR check
            assert row["mttr_hours"] == pytest.approx(mttr, rel=0.15)
        # exponential up times: the Weibull shape is near 1
        if row["failures"] > 50:
            assert row["weibull_shape"] == pytest.approx(1.0, abs=0.15)
    assert m.loc["A", "performance"] == pytest.approx(0.9, abs=0.01)
    assert m.loc["A", "oee"] == pytest.approx(
        m.loc["A", "availability"] * m.loc["A", "performance"], rel=1e-9
    )


def test_readiness_verdicts_with_reasons_in_numbers(report) -> None:
    m = report.machines.set_index("machine_id")
    # A: availability ~0.91 < 0.95, p90 repair ~4.6 h <= one 24 h cycle -> small buffer
    assert m.loc["A", "jit_readiness"] == "ready_with_small_buffer"
    # B: availability ~0.999 and MTBF ~1000 h = ~40 cycles -> ready
    assert m.loc["B", "jit_readiness"] == "ready"
    # C: availability ~0.70 < 0.85 -> not ready, whatever the buffer
    assert m.loc["C", "jit_readiness"] == "not_ready"
    assert "availability" in m.loc["C", "reason"] and "< 85.0%" in m.loc["C", "reason"]
    assert "replenishment cycles of 24 h" in m.loc["A", "reason"]


def test_jit_readiness_when_repair_times_are_unknown() -> None:
    r = jit_readiness(
        "X",
        availability=float("nan"),
        mtbf_hours=1250.0,
        mttr_hours=float("nan"),
        replenishment_cycle_hours=168.0,
    )
    assert r.verdict == "ready_with_small_buffer"  # 7.4 cycles: >= 1, < 10
    assert "repair times unknown" in r.reason and "7.4 replenishment cycles" in r.reason


def test_buffer_hidden_loss_and_recommendation(report) -> None:
    b = report.buffers.set_index("buffer_id").loc["B1"]
    m = report.machines.set_index("machine_id")
    mtbf_a, mttr_a = m.loc["A", "mtbf_hours"], m.loc["A", "mttr_hours"]
    mtbf_b, mttr_b = m.loc["B", "mtbf_hours"], m.loc["B", "mttr_hours"]
    # rates while up are measured: total_count / run_hours
    assert b["upstream_rate_per_hour"] == pytest.approx(RATE_A)
    assert b["downstream_rate_per_hour"] == pytest.approx(RATE_B)
    # hand calculation with no buffer: both machines must be up, at the slower rate:
    # PR(0) = c_B e_A e_B; masked hours = (PR(N) - PR(0)) / c_B x 8760
    e1, e2 = mtbf_a / (mtbf_a + mttr_a), mtbf_b / (mtbf_b + mttr_b)
    hl = hidden_loss(
        mtbf_a, mttr_a, mtbf_b, mttr_b, 20.0, RATE_A, YEAR_H, downstream_rate_per_hour=RATE_B
    )
    assert hl.production_rate_no_buffer == pytest.approx(RATE_B * e1 * e2)
    assert b["hidden_loss_hours"] == pytest.approx(
        (hl.production_rate_current - RATE_B * e1 * e2) / RATE_B * YEAR_H
    )
    assert b["hidden_loss_hours"] > 100  # 20 parts hide over 100 h a year of A's downtime
    assert b["starved_hours_no_buffer"] - b["starved_hours_current"] == pytest.approx(
        b["hidden_loss_hours"]
    )
    # no buffer: line efficiency = PR(0) / PR(inf) = c_B e_A e_B / (c_B e_B) = e_A
    assert b["line_efficiency_no_buffer"] == pytest.approx(e1)
    # 20 parts (under half an hour of B) do not reach 95%; the recommended level does
    assert b["line_efficiency_current"] < 0.95 <= b["line_efficiency_recommended"]
    assert b["recommended_level"] > 20
    # the simulation with the measured up / down times agrees with the analytic figure
    assert b["line_efficiency_simulated"] == pytest.approx(
        b["line_efficiency_current"], abs=4 * b["simulation_standard_error"] + 0.005
    )
    # faster repairs or rarer failures of A let the recommended buffer shrink
    imp = report.improvements.set_index("scenario")
    rec = b["recommended_level"]
    assert imp.loc["MTTR -50%", "buffer_units"] < imp.loc["MTTR -25%", "buffer_units"] < rec
    assert imp.loc["MTBF x2", "buffer_units"] < rec
    assert buffer_after_improvement(
        mtbf_a, mttr_a, mtbf_b, mttr_b, rec, RATE_A, downstream_rate_per_hour=RATE_B
    ) == pytest.approx(rec, rel=1e-6)


def test_item_outage_process_from_the_machine(report) -> None:
    out = report.item_outages
    assert set(out) == {"widget", "bolt"}  # "loose" names no machine
    w = out["widget"]
    m = report.machines.set_index("machine_id").loc["A"]
    assert w.machine_id == "A"
    # one year observed: outages per calendar year = failures in the year
    assert w.outage_rate_per_year == pytest.approx(m["failures"])
    assert w.mean_outage_days == pytest.approx(m["mttr_hours"] / 24)
    assert w.duration_model == "empirical"
    assert w.p90_outage_days > w.mean_outage_days
    assert 0.88 < w.availability < 0.93
    assert out["bolt"].expected_outage_days_per_year > w.expected_outage_days_per_year


def test_same_seed_same_report() -> None:
    machines, events, counts, buffers = _plant()
    a = analyze_equipment(machines, events, counts, buffers, seed=3)
    b = analyze_equipment(machines, events, counts, buffers, seed=3)
    pd.testing.assert_frame_equal(a.buffers, b.buffers)
    pd.testing.assert_frame_equal(a.machines, b.machines)


def test_jit_readiness_of_a_machine_that_never_failed() -> None:
    # no failure, but 11% of planned time in setup: not "ready", a small buffer covers it
    r = jit_readiness(
        "S",
        availability=0.887,
        mtbf_hours=float("inf"),
        mttr_hours=float("nan"),
        replenishment_cycle_hours=24.0,
        failures=0,
    )
    assert r.verdict == "ready_with_small_buffer"
    assert "no failure observed" in r.reason and "not failures" in r.reason
    ok = jit_readiness(
        "S",
        availability=0.97,
        mtbf_hours=float("inf"),
        mttr_hours=float("nan"),
        replenishment_cycle_hours=24.0,
        failures=0,
    )
    assert ok.verdict == "ready"


def test_replenishment_cycle_comes_from_the_items_fed() -> None:
    machines, events, counts, buffers = _plant()
    items = pd.DataFrame(
        {
            "item_id": ["widget", "gear"],
            "machine_id": ["A", "A"],
            "nominal_lead_time_days": [2.0, 0.5],
            "review_period_days": [1.0, 0.0],
        }
    )
    r = analyze_equipment(
        machines,
        events,
        counts,
        buffers,
        seed=1,
        items=items,
        replenishment_cycle_hours={"C": 8.0},
        simulate=False,
    )
    m = r.machines.set_index("machine_id")
    assert m.loc["A", "replenishment_cycle_hours"] == 12.0  # gear: 0.5 day
    assert m.loc["B", "replenishment_cycle_hours"] == 24.0  # default
    assert m.loc["C", "replenishment_cycle_hours"] == 8.0  # given
    assert "replenishment cycles of 12 h" in m.loc["A", "reason"]


def test_measured_serial_line_of_three_machines() -> None:
    machines, events, counts, _ = _plant()
    kw = {"failures": "time_dependent", "seed": 5}
    tight = simulate_measured_line(machines, events, counts, ["A", "B", "C"], [0.0, 0.0], **kw)
    loose = simulate_measured_line(machines, events, counts, ["A", "B", "C"], [1e4, 1e4], **kw)
    # no buffers, time-dependent failures: all three must be up, at the slowest rate
    e = {m: mtbf / (mtbf + mttr) for m, (mtbf, mttr) in PLANT.items()}
    assert tight.production_rate == pytest.approx(RATE_B * e["A"] * e["B"] * e["C"], rel=0.05)
    # huge buffers: the line runs at its bottleneck, C (0.70 x 54 = 37.7 parts / h)
    assert loose.production_rate == pytest.approx(RATE_A * e["C"], rel=0.05)
    assert loose.production_rate > tight.production_rate * 1.3


def test_report_as_json(report) -> None:
    import json

    data = report.as_dict()
    text = json.dumps(data, allow_nan=False)  # NaN / inf became null
    back = json.loads(text)
    assert [m["machine_id"] for m in back["machines"]] == ["A", "B", "C"]
    assert back["buffers"][0]["buffer_id"] == "B1"
    assert back["conventions"]["micro_stop_threshold_s"] == 0.0
    assert back["item_outages"]["widget"]["machine_id"] == "A"


def test_machine_without_any_record_is_not_declared_ready() -> None:
    machines, events, counts, buffers = _plant()
    machines = pd.concat(
        [machines, pd.DataFrame({"machine_id": ["D"], "ideal_cycle_time_s": [30.0]})],
        ignore_index=True,
    )
    r = analyze_equipment(machines, events, counts, buffers, seed=2, simulate=False)
    d = r.machines.set_index("machine_id").loc["D"]
    assert d["jit_readiness"] == "not_ready" and "no state record" in d["reason"]
    assert np.isnan(d["availability"]) and d["failures"] == 0


def test_bad_buffer_level_is_an_error_naming_the_row() -> None:
    from bufferwise.errors import InvalidInput

    machines, events, counts, buffers = _plant()
    buffers = buffers.assign(current_level=["lots"])
    with pytest.raises(InvalidInput, match=r"wip_buffers row 1, column current_level: 'lots'"):
        analyze_equipment(machines, events, counts, buffers, simulate=False)


def test_buffer_figures_use_the_conventions_micro_stop_threshold(
    report, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The coverage buffer rides through the p90 of the same repairs MTTR averages: with the
    # fixture's 0 s threshold every down stop is a failure (about 4% of A's exponential
    # repairs, MTTR 2 h, are shorter than 300 s, the default threshold it used to apply).
    b = report.buffers.set_index("buffer_id").loc["B1"]
    a = report.machines.set_index("machine_id").loc["A"]
    covered_hours = b["coverage_buffer_units"] / b["downstream_rate_per_hour"]
    assert covered_hours == pytest.approx(a["repair_p90_hours"], rel=1e-12)
    # and the simulation check draws its up and down times from those failures too
    from bufferwise.equipment import report as report_module

    seen: list[float] = []
    original = report_module.failure_stops

    def spy(*args: object, **kwargs: object) -> pd.DataFrame:
        seen.append(kwargs["micro_stop_threshold_s"])  # type: ignore[arg-type]
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(report_module, "failure_stops", spy)
    machines, events, counts, buffers = _plant()
    analyze_equipment(
        machines, events, counts, buffers, OeeConventions(micro_stop_threshold_s=42.0), seed=1
    )
    assert seen == [42.0]


def test_jit_readiness_with_unknown_repairs_ignores_the_availability() -> None:
    # docs/equipment.md section 3: "Repair times unknown: verdict from MTBF alone (>= 10 cycles
    # ready, >= 1 small buffer)" - also when analyze_equipment passes the OEE availability
    verdicts = {
        a: jit_readiness(
            "X",
            availability=a,
            mtbf_hours=100.0,  # 100 / 24 = 4.2 cycles: >= 1, < 10
            mttr_hours=float("nan"),
            replenishment_cycle_hours=24.0,
            failures=50,
        )
        for a in (0.97, 0.5, float("nan"))
    }
    for r in verdicts.values():
        assert r.verdict == "ready_with_small_buffer"
        assert "verdict from MTBF alone" in r.reason
    ready = jit_readiness(
        "X",
        availability=0.5,
        mtbf_hours=1000.0,  # 41.7 cycles >= 10
        mttr_hours=float("nan"),
        replenishment_cycle_hours=24.0,
    )
    assert ready.verdict == "ready"
    rare = jit_readiness(
        "X",
        availability=0.99,
        mtbf_hours=12.0,  # half a cycle
        mttr_hours=float("nan"),
        replenishment_cycle_hours=24.0,
    )
    assert rare.verdict == "not_ready"
