"""The equipment cases of ../shared/reference_cases.json, each cited by name."""

from __future__ import annotations

import math

import pytest

from bufferwise.equipment import (
    bernoulli_two_machine,
    exponential_two_machine,
    infinite_buffer_production_rate,
    oee_from_totals,
    teep_from_oee,
    zero_buffer_production_rate,
)


def test_oee_vorne_worked_example(reference_cases: dict[str, dict]) -> None:
    # reference_cases.json: oee_vorne_worked_example (Vorne 'Calculating OEE' worksheet)
    case = reference_cases["oee_vorne_worked_example"]
    i, x, tol = case["inputs"], case["expected"], case["tolerance"]["abs"]
    planned = i["shift_length_min"] - i["breaks_min"]
    run = planned - i["downtime_min"]
    assert planned == x["planned_production_time_min"]
    assert run == x["run_time_min"]
    good = i["total_count"] - i["reject_count"]
    f = oee_from_totals(planned, run, i["total_count"], good, i["ideal_cycle_time_min"])
    assert f.availability == pytest.approx(x["availability"], abs=tol)
    assert f.performance == pytest.approx(x["performance"], abs=tol)
    assert f.quality == pytest.approx(x["quality"], abs=tol)
    assert f.oee == pytest.approx(x["oee"], abs=tol)
    assert f.availability * f.performance * f.quality == pytest.approx(f.oee, rel=1e-12)
    assert good * i["ideal_cycle_time_min"] / planned == pytest.approx(
        x["oee_simple_good_x_ict_over_ppt"], abs=tol
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
