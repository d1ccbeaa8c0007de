"""The equipment cases of ../shared/reference_cases.json, each cited by name."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from bufferwise.equipment import (
    OeeConventions,
    bernoulli_two_machine,
    compute_oee,
    exponential_two_machine,
    infinite_buffer_production_rate,
    teep_from_oee,
    zero_buffer_production_rate,
)


def test_oee_vorne_worked_example(reference_cases: dict[str, dict]) -> None:
    # reference_cases.json: oee_vorne_worked_example (Vorne 'Calculating OEE' worksheet): the
    # shift as a machine log through compute_oee, the function analyze_equipment uses
    case = reference_cases["oee_vorne_worked_example"]
    i, x, tol = case["inputs"], case["expected"], case["tolerance"]["abs"]
    t0 = pd.Timestamp("2024-03-04 06:00")  # the first shift start of OeeConventions

    def at(minute: float) -> pd.Timestamp:
        return t0 + pd.Timedelta(minutes=minute)

    shift, half_break, down = i["shift_length_min"], i["breaks_min"] / 2, i["downtime_min"]
    stop_at = shift / 2  # one breakdown, longer than the 300 s micro-stop threshold
    assert down * 60 >= OeeConventions().micro_stop_threshold_s
    # the breaks in two halves, at the start and the end of the shift (where they fall
    # does not change the figures)
    rows = [
        (0.0, half_break, "planned_stop"),
        (half_break, stop_at, "running"),
        (stop_at, stop_at + down, "down"),
        (stop_at + down, shift - half_break, "running"),
        (shift - half_break, shift, "planned_stop"),
    ]
    events = pd.DataFrame(
        {
            "machine_id": "A",
            "start": [at(r[0]) for r in rows],
            "end": [at(r[1]) for r in rows],
            "state": [r[2] for r in rows],
        }
    )
    counts = pd.DataFrame(
        {
            "machine_id": ["A"],
            "start": [at(0)],
            "end": [at(shift)],
            "total_count": [float(i["total_count"])],
            "good_count": [float(i["total_count"] - i["reject_count"])],
        }
    )
    machines = pd.DataFrame(
        {"machine_id": ["A"], "ideal_cycle_time_s": [i["ideal_cycle_time_min"] * 60]}
    )
    row = compute_oee(events, counts, machines).iloc[0]
    assert row["planned_hours"] * 60 == pytest.approx(x["planned_production_time_min"])
    assert row["run_hours"] * 60 == pytest.approx(x["run_time_min"])
    assert row["availability"] == pytest.approx(x["availability"], abs=tol)
    assert row["performance"] == pytest.approx(x["performance"], abs=tol)
    assert row["quality"] == pytest.approx(x["quality"], abs=tol)
    assert row["oee"] == pytest.approx(x["oee"], abs=tol)
    assert row["oee"] == pytest.approx(x["oee_simple_good_x_ict_over_ppt"], abs=tol)
    assert row["availability"] * row["performance"] * row["quality"] == pytest.approx(
        row["oee"], rel=1e-12
    )


def test_teep_vorne_example(reference_cases: dict[str, dict]) -> None:
    # reference_cases.json: teep_vorne_example (oee.com/teep: 65% x 80 h / 168 h)
    case = reference_cases["teep_vorne_example"]
    i, x, tol = case["inputs"], case["expected"], case["tolerance"]["abs"]
    utilisation, teep = teep_from_oee(i["oee"], i["planned_production_time_h"], i["all_time_h"])
    assert utilisation == pytest.approx(x["utilization"], abs=tol)
    assert teep == pytest.approx(x["teep"], abs=tol)


def test_bernoulli_two_machine_line(reference_cases: dict[str, dict]) -> None:
    # reference_cases.json: bernoulli_two_machine_line (Li & Meerkov 2009 ch. 4)
    case = reference_cases["bernoulli_two_machine_line"]
    i, x, tol = case["inputs"], case["expected"], case["tolerance"]["abs"]
    r = bernoulli_two_machine(i["p1"], i["p2"], i["N"])
    assert r.production_rate == pytest.approx(x["PR"], abs=tol)
    assert r.wip == pytest.approx(x["WIP"], abs=tol)
    assert r.blocked_1 == pytest.approx(x["BL1"], abs=tol)
    assert r.starved_2 == pytest.approx(x["ST2"], abs=tol)
    # conservation: what M1 makes is what M2 takes
    assert i["p1"] - r.blocked_1 == pytest.approx(r.production_rate, abs=1e-12)


def test_exponential_fluid_two_machine(reference_cases: dict[str, dict]) -> None:
    # reference_cases.json: exponential_fluid_two_machine (time-dependent failures, as stated)
    case = reference_cases["exponential_fluid_two_machine"]
    i, x, tol = case["inputs"], case["expected"], case["tolerance"]["abs"]
    r = exponential_two_machine(i["lambda1"], i["mu1"], i["lambda2"], i["mu2"], i["N"], i["c"])
    assert r.production_rate == pytest.approx(x["PR"], abs=tol)


def test_buffer_limits_zero_and_infinite(reference_cases: dict[str, dict]) -> None:
    # reference_cases.json: buffer_limits_zero_and_infinite (Buzacott 1967; Gershwin 1994)
    case = reference_cases["buffer_limits_zero_and_infinite"]
    i, x, tol = case["inputs"], case["expected"], case["tolerance"]["abs"]
    args = (i["lambda1"], i["mu1"], i["lambda2"], i["mu2"])
    assert zero_buffer_production_rate(*args, failures="operation_dependent") == pytest.approx(
        x["PR_N0"], abs=tol
    )
    assert infinite_buffer_production_rate(*args) == pytest.approx(x["PR_Ninf"], abs=tol)
    assert zero_buffer_production_rate(*args, failures="time_dependent") == pytest.approx(
        x["PR_N0_time_dependent_failures"], abs=tol
    )
    # the analytic time-dependent line meets both limits
    assert exponential_two_machine(*args, 0.0).production_rate == pytest.approx(
        x["PR_N0_time_dependent_failures"], abs=tol
    )
    assert exponential_two_machine(*args, math.inf).production_rate == pytest.approx(
        x["PR_Ninf"], abs=tol
    )
    assert exponential_two_machine(*args, 1e7).production_rate == pytest.approx(
        x["PR_Ninf"], abs=tol
    )
