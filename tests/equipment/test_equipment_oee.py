"""OEE, losses, conventions and roll-ups: hand-calculated logs, properties, SME retrofit data."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sme_canonical import IDEAL_CYCLE_TIME_S, MAX_GAP_S, read_sme, sme_to_canonical

from bufferwise.equipment import (
    OeeConventions,
    analyze_equipment,
    compute_oee,
    describe_conventions,
    loss_pareto,
    rollup_oee,
)
from bufferwise.equipment.oee import LOSS_COLUMNS
from bufferwise.errors import InvalidInput
from bufferwise.ingest import enforce_policy, read_with_mapping

T0 = pd.Timestamp("2024-03-04 06:00")  # a Monday, the start of shift 1


def _ev(rows: list[tuple[str, float, float, str]]) -> pd.DataFrame:
    """(machine, start minute, end minute, state) -> canonical machine_events."""
    return pd.DataFrame(
        {
            "machine_id": [r[0] for r in rows],
            "start": [T0 + pd.Timedelta(minutes=r[1]) for r in rows],
            "end": [T0 + pd.Timedelta(minutes=r[2]) for r in rows],
            "state": [r[3] for r in rows],
        }
    )


def _shift_log() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """One 480-minute shift, laid out like the Vorne worksheet: 60 min of breaks (planned_stop),
    30 min setup, a 17-minute breakdown, three 2-minute micro stops, 10 min starved, the rest
    running; 19,271 made, 423 rejects, ideal cycle time 1 s."""
    rows = [
        ("A", 0, 30, "planned_stop"),
        ("A", 30, 60, "setup"),
        ("A", 60, 200, "running"),
        ("A", 200, 217, "down"),
        ("A", 217, 250, "running"),
        ("A", 250, 252, "down"),
        ("A", 252, 300, "running"),
        ("A", 300, 302, "down"),
        ("A", 302, 303, "down"),  # touches the previous record: the same 3-minute stop
        ("A", 303, 350, "running"),
        ("A", 350, 360, "starved"),
        ("A", 360, 390, "planned_stop"),
        ("A", 390, 480, "running"),
    ]
    counts = pd.DataFrame(
        {
            "machine_id": ["A"],
            "start": [T0],
            "end": [T0 + pd.Timedelta(minutes=480)],
            "total_count": [19271.0],
            "good_count": [19271.0 - 423.0],
        }
    )
    machines = pd.DataFrame({"machine_id": ["A"], "ideal_cycle_time_s": [1.0]})
    return machines, _ev(rows), counts


def test_oee_hand_calculation_default_conventions() -> None:
    machines, events, counts = _shift_log()
    row = compute_oee(events, counts, machines).iloc[0]
    # hand calculation (minutes): planned = 480 - 60 breaks = 420; availability losses:
    # setup 30 + breakdown 17 + starved 10 = 57 -> run 363 (the 2- and 3-minute stops stay in it)
    assert row["planned_hours"] * 60 == pytest.approx(420)
    assert row["run_hours"] * 60 == pytest.approx(363)
    assert row["availability"] == pytest.approx(363 / 420)
    assert row["performance"] == pytest.approx(19271 / 60 / 363)
    assert row["quality"] == pytest.approx((19271 - 423) / 19271)
    assert row["oee"] == pytest.approx((19271 - 423) / 60 / 420)
    assert row["oee"] == pytest.approx(row["availability"] * row["performance"] * row["quality"])
    assert row["teep"] == pytest.approx(row["oee"] * 420 / 480)
    assert row["breakdown_count"] == 1 and row["small_stop_count"] == 2
    assert row["small_stop_hours"] * 60 == pytest.approx(5)
    # the losses add up to planned time - fully productive time
    losses = loss_pareto(compute_oee(events, counts, machines))
    assert losses["hours"].sum() == pytest.approx(row["planned_hours"] - (19271 - 423) / 3600)
    assert losses.iloc[0]["loss"] == "slow_cycles"  # 363 - 321.18 - 5 = 36.8 min
    assert row["loss_slow_cycles_hours"] * 60 == pytest.approx(363 - 19271 / 60 - 5)
    assert row["loss_production_rejects_hours"] * 3600 == pytest.approx(423)
    assert np.isnan(row["loss_startup_rejects_hours"])  # not separable from these counts


def test_oee_conventions_change_the_figures_and_are_printed() -> None:
    machines, events, counts = _shift_log()
    conv = OeeConventions(
        setup="not_planned", starved_blocked="not_planned", micro_stop_threshold_s=0
    )
    row = compute_oee(events, counts, machines, conv).iloc[0]
    # planned = 420 - 30 setup - 10 starved = 380; every down minute (17 + 2 + 3) is a breakdown
    assert row["planned_hours"] * 60 == pytest.approx(380)
    assert row["run_hours"] * 60 == pytest.approx(358)
    assert row["breakdown_count"] == 3 and row["small_stop_count"] == 0
    text = describe_conventions(conv)
    assert "setup: excluded from planned production time" in text
    assert any("shorter than 0 s" in line for line in text)
    default_text = "\n".join(describe_conventions(OeeConventions()))
    assert "shorter than 300 s" in default_text and "idle: excluded" in default_text
    print("\n".join(default_text.splitlines()))


def test_performance_above_100_percent_is_flagged_not_capped() -> None:
    machines, events, counts = _shift_log()
    machines = machines.assign(ideal_cycle_time_s=2.0)  # too slow an ideal: 2 s per part
    row = compute_oee(events, counts, machines).iloc[0]
    assert row["performance"] == pytest.approx(19271 * 2 / 60 / 363)
    assert row["performance"] > 1.7
    assert "performance above 100%" in row["performance_flag"]


def test_bad_state_is_reported_with_row_and_allowed_values() -> None:
    events = _ev([("A", 0, 10, "running"), ("A", 10, 20, "broken")])
    with pytest.raises(InvalidInput, match=r"row 2, column state: 'broken'"):
        compute_oee(events)


def test_per_shift_and_day_split_intervals_and_roll_up_to_the_whole() -> None:
    # one machine runs 20:00 .. 02:00 across two shifts (14-22, 22-06) and two days
    events = pd.DataFrame(
        {
            "machine_id": ["A", "A"],
            "start": [pd.Timestamp("2024-03-04 20:00"), pd.Timestamp("2024-03-05 01:00")],
            "end": [pd.Timestamp("2024-03-05 01:00"), pd.Timestamp("2024-03-05 02:00")],
            "state": ["running", "down"],
        }
    )
    counts = events.iloc[[0]][["machine_id", "start", "end"]].assign(
        total_count=500.0, good_count=500.0
    )
    machines = pd.DataFrame({"machine_id": ["A"], "ideal_cycle_time_s": [30.0]})
    shifts = compute_oee(events, counts, machines, period="shift")
    assert list(shifts["period_start"]) == [
        pd.Timestamp("2024-03-04 20:00"),
        pd.Timestamp("2024-03-04 22:00"),
    ]
    assert list(shifts["running_hours"]) == pytest.approx([2.0, 3.0])
    assert list(shifts["total_count"]) == pytest.approx([200.0, 300.0])  # pro rata by time
    days = compute_oee(events, counts, machines, period="day")
    assert list(days["running_hours"]) == pytest.approx([4.0, 1.0])
    assert list(days["breakdown_hours"]) == pytest.approx([0.0, 1.0])
    whole = compute_oee(events, counts, machines).iloc[0]
    for part in (shifts, days):
        up = rollup_oee(part).iloc[0]
        for col in ("availability", "performance", "oee", "planned_hours", "total_count"):
            assert up[col] == pytest.approx(whole[col])


@st.composite
def _random_logs(draw: st.DrawFn) -> pd.DataFrame:
    n_machines = draw(st.integers(1, 3))
    rows = []
    for m in range(n_machines):
        t = draw(st.integers(0, 600))
        for i in range(draw(st.integers(1, 12))):
            length = draw(st.integers(1 if i == 0 else 0, 900))
            state = draw(
                st.sampled_from(
                    ["running", "idle", "down", "setup", "planned_stop", "starved", "blocked"]
                )
            )
            rows.append((f"M{m}", t, t + length, state))
            t += length + draw(st.integers(0, 120))
    return _ev(rows)


_TREATMENTS = st.sampled_from(["availability_loss", "not_planned"])


@settings(max_examples=40, deadline=None)
@given(
    _random_logs(),
    st.sampled_from(["shift", "day", "week"]),
    _TREATMENTS,
    _TREATMENTS,
    _TREATMENTS,
    _TREATMENTS,
)
def test_property_roll_up_equals_recomputation_from_summed_times(
    events: pd.DataFrame, period: str, setup: str, idle: str, starved: str, unlogged: str
) -> None:
    conv = OeeConventions(
        setup=setup,  # type: ignore[arg-type]
        idle=idle,  # type: ignore[arg-type]
        starved_blocked=starved,  # type: ignore[arg-type]
        unlogged_time=unlogged,  # type: ignore[arg-type]
        micro_stop_threshold_s=120,
    )
    run = events[events["state"] == "running"]
    counts = run[["machine_id", "start", "end"]].assign(
        total_count=((run["end"] - run["start"]).dt.total_seconds() / 70).round(),
    )
    counts["good_count"] = (counts["total_count"] * 0.9).round()
    machines = pd.DataFrame({"machine_id": ["M0", "M1", "M2"], "ideal_cycle_time_s": 60.0})
    whole = compute_oee(events, counts, machines, conv).set_index("machine_id")
    parts = compute_oee(events, counts, machines, conv, period=period)  # type: ignore[arg-type]
    up = rollup_oee(parts, "machine_id", conv).set_index("machine_id")
    for mid in up.index:
        for col in (
            "planned_hours",
            "run_hours",
            "availability",
            "performance",
            "quality",
            "oee",
            "teep",
            "total_count",
            "small_stop_hours",
            "breakdown_hours",
        ):
            a, b = up.loc[mid, col], whole.loc[mid, col]
            assert (np.isnan(a) and np.isnan(b)) or a == pytest.approx(b, rel=1e-9, abs=1e-9)
    # the listed losses always add up to planned time - fully productive time
    losses = whole[list(LOSS_COLUMNS)].fillna(0.0).sum(axis=1)
    gap = whole["planned_hours"] - whole["fully_productive_hours"]
    assert np.allclose(losses, gap, atol=1e-9)
    plant = rollup_oee(whole.reset_index(), None, conv).iloc[0]
    assert plant["planned_hours"] == pytest.approx(whole["planned_hours"].sum())


# ---------------------------------------------------------------------------- SME retrofit


@pytest.fixture(scope="module")
def sme(shared_data: Path) -> pd.DataFrame:
    return read_sme(shared_data / "sme_manufacturing_retrofit" / "company_A_labelled_subset.csv")


def _independent_sme_figures(raw: pd.DataFrame) -> pd.DataFrame:
    """A, P, OEE per asset with plain pandas from the raw snapshots (not the package):
    each snapshot's state lasts until the next one of its asset, at most MAX_GAP_S; alarm
    runs shorter than 300 s are small stops (inside run time); manual mode is setup; unlogged
    time is not planned; items count since the previous snapshot."""
    out = []
    for asset, g in raw.groupby("asset"):
        g = g.sort_values("ts").reset_index(drop=True)
        gap = (g["ts"].shift(-1) - g["ts"]).dt.total_seconds()
        dur = gap.clip(upper=MAX_GAP_S)
        ok = gap.notna()
        by_status = dur[ok].groupby(g["status"][ok]).sum()
        # alarm runs: consecutive alarm rows whose capped interval reaches the next row
        alarm = (g["status"] == 3) & ok
        cont = alarm & alarm.shift(1, fill_value=False) & (gap.shift(1) <= MAX_GAP_S)
        run_id = (alarm & ~cont).cumsum()
        runs = dur[alarm].groupby(run_id[alarm]).sum()
        breakdown_s = runs[runs >= 300].sum()
        planned_s = by_status.sum()
        run_s = planned_s - by_status.get(1, 0.0) - breakdown_s
        total = g["items"].iloc[1:].sum()
        ideal_s = total * IDEAL_CYCLE_TIME_S[asset]
        out.append(
            {
                "machine_id": asset,
                "availability": run_s / planned_s,
                "performance": ideal_s / run_s,
                "oee": ideal_s / planned_s,
                "total_count": total,
                "planned_hours": planned_s / 3600,
            }
        )
    return pd.DataFrame(out).set_index("machine_id")


def test_sme_retrofit_oee_per_asset(sme: pd.DataFrame) -> None:
    machines, events, counts = sme_to_canonical(sme)
    conv = OeeConventions()
    print("\nconventions used:\n  " + "\n  ".join(describe_conventions(conv)))
    table = compute_oee(events, counts, machines, conv).set_index("machine_id")
    print(table[["planned_hours", "availability", "performance", "quality", "oee", "teep"]])
    expected = _independent_sme_figures(sme)
    for asset in ("0", "1", "2"):
        for col in ("availability", "performance", "oee", "total_count", "planned_hours"):
            assert table.loc[asset, col] == pytest.approx(expected.loc[asset, col], rel=1e-9)
        assert table.loc[asset, "quality"] == 1.0  # the data carry no rejects
    # pinned (the independent pandas derivation above, printed once, 2026-11-27)
    pinned = {
        "0": (0.886896, 0.854151, 0.757543, 12219),
        "1": (0.549259, 0.649128, 0.356540, 12932),
        "2": (0.485237, 0.859572, 0.417096, 14898),
    }
    for asset, (a, p, o, total) in pinned.items():
        assert table.loc[asset, "availability"] == pytest.approx(a, abs=1e-6)
        assert table.loc[asset, "performance"] == pytest.approx(p, abs=1e-6)
        assert table.loc[asset, "oee"] == pytest.approx(o, abs=1e-6)
        assert table.loc[asset, "total_count"] == total
    # setup (manual mode) dominates the losses of assets 1 and 2
    pareto = loss_pareto(table.reset_index())
    assert pareto.iloc[0]["loss"] == "setup"


def test_sme_retrofit_daily_roll_up_matches_whole_period(sme: pd.DataFrame) -> None:
    machines, events, counts = sme_to_canonical(sme)
    whole = compute_oee(events, counts, machines).set_index("machine_id")
    daily = compute_oee(events, counts, machines, period="day")
    up = rollup_oee(daily).set_index("machine_id")
    assert np.allclose(up["oee"], whole["oee"], rtol=1e-9)
    assert daily["machine_id"].nunique() == 3


def _shipped_sme_tables(shared_data: Path, mapping: str | Path) -> dict[str, pd.DataFrame]:
    path = shared_data / "sme_manufacturing_retrofit" / "company_A_labelled_subset.csv"
    return enforce_policy(read_with_mapping(path, mapping)).tables


def test_sme_retrofit_shipped_mapping(shared_data: Path, tmp_path: Path) -> None:
    """What `bufferwise import -m sme_retrofit` + `bufferwise equipment` give (docs/equipment.md
    section 8 states these): manual -> idle, 10 min cap and no ideal cycle time, so availability
    is about 1, there is no performance or OEE, and every machine is ready; the test table's
    figures need manual -> setup, a 15 min cap and ideal cycle times given by the user."""
    t = _shipped_sme_tables(shared_data, "sme_retrofit")
    assert t["machines"]["ideal_cycle_time_s"].isna().all()  # the data state none
    shipped = analyze_equipment(t["machines"], t["machine_events"], t["production_counts"], None)
    m = shipped.machines.set_index("machine_id")
    assert m["availability"].tolist() == pytest.approx([1.0, 0.999569, 1.0], abs=1e-6)
    assert m["performance"].isna().all() and m["oee"].isna().all()
    assert (m["quality"] == 1.0).all()
    assert m["total_count"].tolist() == [12223, 12940, 14904]
    assert set(m["jit_readiness"]) == {"ready"}
    idle_lost = analyze_equipment(
        t["machines"],
        t["machine_events"],
        t["production_counts"],
        None,
        conventions=OeeConventions(idle="availability_loss"),
    ).machines.set_index("machine_id")
    assert idle_lost["availability"].tolist() == pytest.approx(
        [0.888129, 0.546298, 0.482970], abs=1e-6
    )
    ready = ["ready_with_small_buffer", "not_ready", "not_ready"]
    assert idle_lost["jit_readiness"].tolist() == ready

    # the variant the docs describe: manual -> setup, 15 min, the test's ideal cycle times
    shipped_toml = files("bufferwise") / "mappings" / "sme_retrofit.toml"
    text = shipped_toml.read_text(encoding="utf-8")
    variant = text.replace('"1" = "idle"', '"1" = "setup"').replace(
        'max_gap = "10min"', f'max_gap = "{int(MAX_GAP_S // 60)}min"'
    )
    assert variant.count('"1" = "setup"') == 1 and variant.count('"15min"') == 2
    (tmp_path / "sme_setup.toml").write_text(variant, encoding="utf-8")
    v = _shipped_sme_tables(shared_data, tmp_path / "sme_setup.toml")
    machines = v["machines"].assign(
        ideal_cycle_time_s=v["machines"]["machine_id"].map(IDEAL_CYCLE_TIME_S)
    )
    vm = analyze_equipment(machines, v["machine_events"], v["production_counts"], None)
    row = vm.machines.set_index("machine_id")
    assert row["availability"].tolist() == pytest.approx([0.887001, 0.549557, 0.484993], abs=1e-6)
    assert row["oee"].tolist() == pytest.approx([0.757087, 0.356524, 0.417054], abs=1e-6)

    doc = (Path(__file__).resolve().parents[2] / "docs" / "equipment.md").read_text("utf-8")
    section = doc.split("## 8.", 1)[1].split("\n## ", 1)[0]
    for figure in ("0.999569", "0.888129 / 0.546298 /\n0.482970", "0.887001", "0.757087"):
        assert figure in section, f"docs/equipment.md section 8 lacks {figure!r}"


def test_window_clips_events_and_shares_counts_pro_rata() -> None:
    events = _ev([("A", 0, 120, "running")])
    counts = events[["machine_id", "start", "end"]].assign(total_count=1200.0, good_count=1200.0)
    machines = pd.DataFrame({"machine_id": ["A"], "ideal_cycle_time_s": [6.0]})
    window = (T0 + pd.Timedelta(minutes=30), T0 + pd.Timedelta(minutes=90))
    row = compute_oee(events, counts, machines, window=window).iloc[0]
    # 60 of the 120 minutes fall inside: half the count; 600 x 6 s = 60 min -> P = 1
    assert row["running_hours"] == pytest.approx(1.0)
    assert row["total_count"] == pytest.approx(600.0)
    assert row["performance"] == pytest.approx(1.0)
    assert row["performance_flag"] == ""


def test_startup_rejects_are_separated_when_the_counts_carry_them() -> None:
    machines, events, counts = _shift_log()
    counts = counts.assign(startup_reject_count=[100.0])  # 100 of the 423 rejects at start-up
    row = compute_oee(events, counts, machines).iloc[0]
    assert row["loss_startup_rejects_hours"] * 3600 == pytest.approx(100)
    assert row["loss_production_rejects_hours"] * 3600 == pytest.approx(323)
    six = loss_pareto(compute_oee(events, counts, machines), six_big_only=True)
    assert set(six["loss"]) == {
        "breakdowns",
        "setup",
        "small_stops",
        "slow_cycles",
        "startup_rejects",
        "production_rejects",
    }


def _two_machines(
    ideal_cycle_time_s: tuple[float, float], total: tuple[float, float], good: tuple[float, float]
) -> pd.DataFrame:
    """Machines A and B, each running the whole 480-minute shift (A = 1)."""
    events = _ev([("A", 0, 480, "running"), ("B", 0, 480, "running")])
    counts = pd.DataFrame(
        {
            "machine_id": ["A", "B"],
            "start": [T0, T0],
            "end": [T0 + pd.Timedelta(minutes=480)] * 2,
            "total_count": list(total),
            "good_count": list(good),
        }
    )
    machines = pd.DataFrame({"machine_id": ["A", "B"], "ideal_cycle_time_s": ideal_cycle_time_s})
    return compute_oee(events, counts, machines)


def test_rollup_leaves_a_machine_without_ideal_cycle_time_out_of_p_and_oee() -> None:
    # two identical machines at 100% (480 parts of 60 s in 480 min), B without an ideal cycle
    # time: the plant is at 100% on what can be measured, not at 50%
    table = _two_machines((60.0, np.nan), (480.0, 480.0), (480.0, 480.0))
    plant = rollup_oee(table, None).iloc[0]
    assert plant["availability"] == pytest.approx(1.0)  # both machines count in A
    assert plant["planned_hours"] == pytest.approx(16.0)
    assert plant["performance"] == pytest.approx(1.0)  # A's 8 h only
    assert plant["oee"] == pytest.approx(1.0)
    assert plant["teep"] == pytest.approx(1.0)
    assert plant["loss_slow_cycles_hours"] == pytest.approx(0.0)
    assert plant["rows_without_ideal_cycle_time"] == 1
    per_machine = rollup_oee(table).set_index("machine_id")
    assert list(per_machine["rows_without_ideal_cycle_time"]) == [0, 1]
    b = per_machine.loc["B"]
    assert np.isnan(float(b["performance"])) and np.isnan(float(b["oee"]))
    nobody = rollup_oee(_two_machines((np.nan, np.nan), (480.0, 480.0), (480.0, 480.0)), None)
    assert np.isnan(nobody.iloc[0]["oee"]) and nobody.iloc[0]["rows_without_ideal_cycle_time"] == 2


def test_rollup_quality_is_good_over_total_and_oee_is_productive_over_planned() -> None:
    # A: 400 made, 200 good at 60 s; B: 10,000 made, all good at 1 s (both 480 min running).
    # Q = good / total as docs/equipment.md defines it: 10,200 / 10,400 (the old roll-up
    # weighted it by ideal time: (200 x 60 + 10,000) / (400 x 60 + 10,000) = 0.647)
    table = _two_machines((60.0, 1.0), (400.0, 10_000.0), (200.0, 10_000.0))
    plant = rollup_oee(table, None).iloc[0]
    assert plant["quality"] == pytest.approx(10_200 / 10_400)
    # OEE = sum good x ideal cycle time / sum planned time (hand calculation, hours)
    assert plant["oee"] == pytest.approx((200 * 60 + 10_000 * 1) / 3600 / 16)
    assert plant["performance"] == pytest.approx((400 * 60 + 10_000 * 1) / 3600 / 16)
    # A x P x Q_t, with the quality weighted by ideal time, gives OEE; A x P x Q does not here
    q_t = (200 * 60 + 10_000) / (400 * 60 + 10_000)
    assert plant["availability"] * plant["performance"] * q_t == pytest.approx(plant["oee"])
    # on one machine (one ideal cycle time) the two qualities agree and OEE = A x P x Q
    machine = rollup_oee(table).set_index("machine_id").loc["A"]
    assert machine["quality"] == pytest.approx(0.5)
    assert machine["oee"] == pytest.approx(
        machine["availability"] * machine["performance"] * machine["quality"]
    )
