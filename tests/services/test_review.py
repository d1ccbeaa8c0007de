"""Review cycle round trip (issue 7): review -> approve / reject -> history, on SQLite and
PostgreSQL.

The recommendations are stored as the output of a recorded 'analyze' run, exactly as the main
job stores them; the numbers are chosen by hand so each review reason is exercised.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from bufferwise.errors import InvalidInput
from bufferwise.model import FileReport, ImportBatch
from bufferwise.services.review import (
    approve_database,
    history_database,
    reject_database,
    review_database,
    review_queue,
    with_approved_levels,
)
from bufferwise.settings import ReviewSettings
from bufferwise.storage import open_repository


def _recommendations(ss_a: float, stance_b: str, diag_c: str = "") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item_id": ["A", "B", "C"],
            "stance": ["buffer", stance_b, "lean"],
            "safety_stock": [ss_a, 5.0, 8.0],
            "reorder_point": [ss_a + 50, 25.0, 30.0],
            "order_up_to": [ss_a + 150, 45.0, 60.0],
            "diagnosis": ["", "", diag_c],
            "diagnosis_detail": [
                "",
                "",
                "demand level +60% since the buffer was set" if diag_c else "",
            ],
            "diagnosis_money_per_year": [0.0, 0.0, 1200.0 if diag_c else 0.0],
        }
    )


def _store_items(url: str) -> None:
    items = pd.DataFrame(
        {
            "item_id": ["A", "B", "C"],
            "description": ["", "", ""],
            "category": ["raw", "spare", "raw"],
            "unit_cost": [10.0, 100.0, 1.0],
            "holding_rate": [0.25] * 3,
            "stockout_cost": [float("nan")] * 3,
            "criticality": ["medium"] * 3,
            "supplier_id": ["S1", "S2", "S1"],
            "nominal_lead_time_days": [10.0, 20.0, 5.0],
            "review_period_days": [0.0] * 3,
            "moq": [0.0] * 3,
            "order_multiple": [1.0] * 3,
            "order_cost": [0.0] * 3,
            "current_safety_stock": [float("nan")] * 3,
            "current_reorder_point": [float("nan")] * 3,
            "buffer_set_on": pd.to_datetime([None, None, None]),
            "machine_id": ["", "", ""],
        }
    )
    _import_items(url, items, "items.csv")


def _import_items(url: str, items: pd.DataFrame, file: str) -> None:
    batch = ImportBatch(
        tables={"items": items},
        files=[
            FileReport(
                file=file,
                content_hash=f"h-{file}",
                mapping="canonical",
                rows_read=len(items),
                rows_accepted=len(items),
            )
        ],
    )
    with open_repository(url) as repo:
        repo.import_batch(batch)


def _store_run(url: str, table: pd.DataFrame) -> int:
    with open_repository(url) as repo:
        run_id = repo.start_run("analyze", settings={}, seed=1)
        repo.save_output(run_id, "recommendations", table)
        repo.finish_run(run_id, "succeeded")
        return run_id


def test_review_approve_history_round_trip(db_url: str) -> None:
    _store_items(db_url)
    with pytest.raises(InvalidInput, match="no successful analysis"):
        review_database(db_url, ReviewSettings())

    run1 = _store_run(db_url, _recommendations(ss_a=100.0, stance_b="lean"))
    recs, queue = review_database(db_url, ReviewSettings())
    assert recs.run_id == run1
    assert set(queue["item_id"]) == {"A", "B", "C"}
    assert set(queue["reasons"]) == {"never_approved"}
    # money at stake for never-approved items = recommended safety stock x unit cost:
    # A 100 x 10 = 1000 ; B 5 x 100 = 500 ; C 8 x 1 = 8  -> ordered A, B, C
    assert queue["item_id"].tolist() == ["A", "B", "C"]
    assert queue["money_at_stake"].tolist() == [1000.0, 500.0, 8.0]
    with pytest.raises(InvalidInput, match="item 'A' has no approved policy yet"):  # stored
        history_database(db_url, "A")

    with pytest.raises(InvalidInput, match="say what to approve"):
        approve_database(db_url, by="lena")
    done = approve_database(db_url, by="lena", note="first review", all_items=True)
    assert sorted(done["item_id"]) == ["A", "B", "C"]
    assert set(done["version"]) == {1}
    _, queue = review_database(db_url, ReviewSettings())
    assert queue.empty

    # next cycle: A's level moves by 30% (> 20% tolerance), B's stance changes, C drifted
    run2 = _store_run(
        db_url, _recommendations(ss_a=130.0, stance_b="buffer", diag_c="set_and_forget")
    )
    recs, queue = review_database(db_url, ReviewSettings())
    assert recs.run_id == run2
    reasons = dict(zip(queue["item_id"], queue["reasons"], strict=True))
    assert reasons == {"A": "level_moved", "B": "stance_changed", "C": "risk_drifted"}
    # C: diagnosis money 1200 ; A: |130-100| x 10 = 300 ; B: 0 units moved -> 0
    assert queue["item_id"].tolist() == ["C", "A", "B"]
    assert "100.0 -> 130.0 (+30%)" in queue.set_index("item_id").loc["A", "what_changed"]

    approve_database(db_url, by="omar", item_ids=["A"], note="agreed")
    hist = history_database(db_url, "A")
    assert hist["version"].tolist() == [1, 2]
    assert hist["safety_stock"].tolist() == [100.0, 130.0]
    assert hist["approved_by"].tolist() == ["lena", "omar"]
    assert hist["note"].tolist() == ["first review", "agreed"]
    assert hist["run_id"].tolist() == [run1, run2]
    # nothing overwritten: B and C still have only their first version
    assert history_database(db_url, "B")["version"].tolist() == [1]
    # approving C answers the drift run2 diagnosed: C leaves the queue (before, it stayed
    # queued for 'risk_drifted' until the next analysis, approved or not); B still waits
    approve_database(db_url, by="omar", item_ids=["C"], note="re-set after the drift")
    _, queue = review_database(db_url, ReviewSettings())
    assert queue["item_id"].tolist() == ["B"]
    with pytest.raises(InvalidInput, match="no recommendation"):
        approve_database(db_url, by="omar", item_ids=["ZZ"])
    with pytest.raises(InvalidInput, match="unknown item 'ZZ'"):  # no stored item ZZ
        history_database(db_url, "ZZ")


def test_approval_expires_after_the_horizon() -> None:
    rec = _recommendations(ss_a=100.0, stance_b="lean")
    approved = pd.DataFrame(
        {
            "item_id": ["A", "B", "C"],
            "version": [1, 1, 1],
            "safety_stock": [100.0, 5.0, 8.0],
            "reorder_point": [150.0, 25.0, 30.0],
            "stance": ["buffer", "lean", "lean"],
            "approved_at": [datetime(2025, 1, 1)] * 3,
        }
    )
    today = datetime(2025, 1, 1) + timedelta(days=400)
    q = review_queue(rec, approved, today=today, settings=ReviewSettings(horizon_days=365))
    assert set(q["reasons"]) == {"approval_expired"}
    q = review_queue(rec, approved, today=today, settings=ReviewSettings(horizon_days=500))
    assert q.empty


def test_approved_levels_become_the_current_policy() -> None:
    items = pd.DataFrame(
        {
            "item_id": ["A", "B"],
            "current_safety_stock": [3.0, 7.0],
            "current_reorder_point": [9.0, 11.0],
            "buffer_set_on": pd.to_datetime(["2020-01-01", "2021-06-30"]),
        }
    )
    approved = pd.DataFrame(
        {
            "item_id": ["B", "Z"],  # Z: approved once, no longer an item
            "version": [2, 1],
            "safety_stock": [12.5, 1.0],
            "reorder_point": [20.0, 2.0],
            "stance": ["buffer", "lean"],
            "approved_at": [datetime(2026, 3, 4, 15, 30), datetime(2026, 1, 1)],
        }
    )
    out = with_approved_levels(items, approved).set_index("item_id")
    assert out.loc["A"].tolist() == [3.0, 9.0, pd.Timestamp("2020-01-01")]  # never approved
    assert out.loc["B"].tolist() == [12.5, 20.0, pd.Timestamp("2026-03-04")]  # the approval
    assert len(out) == 2
    assert items["current_safety_stock"].tolist() == [3.0, 7.0]  # the input is not changed
    assert with_approved_levels(items, approved.iloc[:0]) is items


@pytest.mark.slow
def test_an_analysis_after_approval_diagnoses_the_approved_levels(tmp_path: Path) -> None:
    from bufferwise.demo import generate_plant
    from bufferwise.services.analyze import analyze
    from bufferwise.services.imports import import_files
    from bufferwise.settings import Settings

    generate_plant(tmp_path / "plant")
    url = f"sqlite:///{tmp_path / 'p.db'}"
    import_files(url, [tmp_path / "plant"])
    first = analyze(url, Settings(), seed=3).output_tables()["recommendations"]
    assert first["diagnosis"].fillna("").str.contains("set_and_forget").any()  # the demo's mistake
    approve_database(url, by="lena", all_items=True)
    again = analyze(url, Settings(), seed=3).output_tables()["recommendations"]
    # the current policy is now the approved one: its levels, set today (no drift since)
    current = again.set_index("item_id")["current_safety_stock"]
    approved = first.set_index("item_id")["safety_stock"]
    pd.testing.assert_series_equal(
        current.sort_index(), approved.sort_index(), check_names=False, check_dtype=False
    )
    assert not again["diagnosis"].fillna("").str.contains("set_and_forget").any()


# --- reject ------------------------------------------------------------------------------------


def _store_items_with_current_levels(url: str) -> None:
    """A, B, C as in `_store_items`, A and B with imported current levels (C without)."""
    _store_items(url)
    with open_repository(url) as repo:
        items = repo.read_table("items")
    items["current_safety_stock"] = [40.0, 6.0, float("nan")]
    items["current_reorder_point"] = [90.0, 26.0, float("nan")]
    _import_items(url, items, "items2.csv")


def test_reject_keeps_the_levels_and_queues_only_a_moved_recommendation(db_url: str) -> None:
    _store_items(db_url)
    run1 = _store_run(db_url, _recommendations(ss_a=100.0, stance_b="lean"))
    approve_database(db_url, by="lena", note="first review", all_items=True)

    # next cycle: A moves to 130 (+30%), B's stance changes; the planner disagrees with both
    run2 = _store_run(db_url, _recommendations(ss_a=130.0, stance_b="buffer"))
    _, queue = review_database(db_url, ReviewSettings())
    assert set(queue["item_id"]) == {"A", "B"}
    with pytest.raises(InvalidInput, match="say why"):
        reject_database(db_url, by="omar", note="  ", item_ids=["A"])
    with pytest.raises(InvalidInput, match="say what to reject"):
        reject_database(db_url, by="omar", note="no")
    with pytest.raises(InvalidInput, match=r"nothing rejected: .*--category nosuch"):
        reject_database(db_url, by="omar", note="no", categories=["nosuch"])
    done = reject_database(
        db_url, by="omar", note="the supplier moves to weekly deliveries", in_review_only=True
    )
    assert sorted(done["item_id"]) == ["A", "B"]
    assert set(done["decision"]) == {"rejected"}
    assert set(done["version"]) == {2}
    # the queue drops both: the decision is recorded
    _, queue = review_database(db_url, ReviewSettings())
    assert queue.empty

    hist = history_database(db_url, "A")
    assert hist["decision"].tolist() == ["approved", "rejected"]
    assert list(hist.columns[:3]) == ["item_id", "version", "decision"]
    assert hist["safety_stock"].tolist() == [100.0, 100.0]  # kept
    assert hist["reorder_point"].tolist() == [150.0, 150.0]
    assert hist["order_up_to"].tolist() == [250.0, 250.0]
    assert hist["stance"].tolist() == ["buffer", "buffer"]
    rejected = hist.iloc[1]
    assert (rejected["rejected_safety_stock"], rejected["rejected_reorder_point"]) == (130.0, 180.0)
    assert rejected["rejected_stance"] == "buffer"
    assert rejected["run_id"] == run2 and hist["run_id"].iloc[0] == run1
    assert rejected["note"] == "the supplier moves to weekly deliveries"
    assert rejected["approved_by"] == "omar"
    assert pd.isna(hist["rejected_safety_stock"].iloc[0])  # an approval turns nothing down
    hist_b = history_database(db_url, "B")
    assert hist_b["stance"].tolist() == ["lean", "lean"]
    assert hist_b["rejected_stance"].tolist()[1] == "buffer"

    # the kept levels stay the current policy for the next analysis
    with open_repository(db_url) as repo:
        current = with_approved_levels(repo.read_table("items"), repo.current_policies())
    assert current.set_index("item_id").loc["A", "current_safety_stock"] == 100.0

    # a later analysis within tolerance of the REJECTED level (150 vs 130: +15%) does not
    # queue A, though it is 50% above the kept 100; B stays 'buffer' as rejected
    _store_run(db_url, _recommendations(ss_a=150.0, stance_b="buffer"))
    _, queue = review_database(db_url, ReviewSettings())
    assert queue.empty
    # beyond the tolerance of the rejected level (170 vs 130: +31%): A returns; B's stance
    # moves back to the kept 'lean', away from the rejected 'buffer': B returns too
    _store_run(db_url, _recommendations(ss_a=170.0, stance_b="lean"))
    _, queue = review_database(db_url, ReviewSettings())
    reasons = dict(zip(queue["item_id"], queue["reasons"], strict=True))
    assert reasons == {"A": "level_moved", "B": "stance_changed"}
    row = queue.set_index("item_id").loc["A"]
    assert row["decision"] == "rejected"
    assert row["safety_stock_rejected"] == 130.0
    assert "130.0 rejected -> 170.0 recommended (+31%) (kept 100.0)" in row["what_changed"]
    # money at stake: what approving would change, |170 - kept 100| x 10
    assert row["money_at_stake"] == 700.0
    assert "stance buffer rejected -> lean" in queue.set_index("item_id").loc["B", "what_changed"]

    # approving after a rejection: the recommendation becomes the policy
    approve_database(db_url, by="lena", item_ids=["A"], note="ok now")
    hist = history_database(db_url, "A")
    assert hist["decision"].tolist() == ["approved", "rejected", "approved"]
    assert hist["safety_stock"].tolist() == [100.0, 100.0, 170.0]


def test_rejecting_a_never_approved_item_keeps_the_imported_levels(db_url: str) -> None:
    _store_items_with_current_levels(db_url)
    run1 = _store_run(db_url, _recommendations(ss_a=100.0, stance_b="lean"))
    # C has no imported levels: nothing to keep, so the whole rejection is refused
    with pytest.raises(InvalidInput, match=r"cannot reject item\(s\) C: never approved"):
        reject_database(db_url, by="omar", note="too much stock", all_items=True)
    with open_repository(db_url) as repo:
        assert repo.current_policies().empty
    done = reject_database(db_url, by="omar", note="too much stock", item_ids=["A", "B"])
    got = done.set_index("item_id")
    assert got.loc["A", "safety_stock"] == 40.0 and got.loc["A", "reorder_point"] == 90.0
    assert got.loc["B", "safety_stock"] == 6.0 and got.loc["B", "reorder_point"] == 26.0
    assert set(got["stance"]) == {"current"}
    assert got["order_up_to"].isna().all()
    assert got.loc["A", "rejected_safety_stock"] == 100.0
    assert got.loc["A", "rejected_stance"] == "buffer"
    assert set(got["run_id"]) == {run1}
    # decided: 'never_approved' no longer fires; C still waits
    _, queue = review_database(db_url, ReviewSettings())
    assert queue["item_id"].tolist() == ["C"]
    assert queue["reasons"].tolist() == ["never_approved"]


def test_rejection_expires_after_the_horizon_and_answers_a_drift() -> None:
    rec = _recommendations(ss_a=100.0, stance_b="lean", diag_c="set_and_forget")
    decided = pd.DataFrame(
        {
            "item_id": ["A", "B", "C"],
            "version": [2, 2, 2],
            "safety_stock": [60.0, 5.0, 3.0],
            "reorder_point": [110.0, 25.0, 20.0],
            "stance": ["lean", "lean", "jit"],
            "approved_at": [datetime(2025, 1, 1)] * 3,
            "decision": ["rejected"] * 3,
            "rejected_safety_stock": [100.0, 5.0, 8.0],
            "rejected_reorder_point": [150.0, 25.0, 30.0],
            "rejected_stance": ["buffer", "lean", "lean"],
        }
    )
    today = datetime(2025, 1, 1) + timedelta(days=400)
    q = review_queue(rec, decided, today=today, settings=ReviewSettings(horizon_days=365))
    assert q.set_index("item_id")["reasons"].to_dict() == {
        "A": "approval_expired",
        "B": "approval_expired",
        "C": "approval_expired;risk_drifted",
    }
    assert "rejected 400 days ago" in q["what_changed"].iloc[0]
    # rejected after the analysis started: the drift it diagnosed is answered
    q = review_queue(
        rec,
        decided,
        today=today,
        settings=ReviewSettings(horizon_days=500),
        analysed_at=datetime(2024, 12, 31),
    )
    assert q.empty


def test_reject_needs_a_reason_at_the_storage_door(db_url: str) -> None:
    row = {
        "item_id": "A",
        "safety_stock": 1.0,
        "reorder_point": 2.0,
        "stance": "current",
        "rejected_safety_stock": 3.0,
        "rejected_reorder_point": 4.0,
        "rejected_stance": "lean",
    }
    with open_repository(db_url) as repo:
        with pytest.raises(InvalidInput, match="cannot reject: say why"):
            repo.reject([row], by="omar")
        with pytest.raises(InvalidInput, match="rejected_stance: is required"):
            repo.reject([{**row, "rejected_stance": None}], by="omar", note="x")
        with pytest.raises(
            InvalidInput, match=r"rejected_safety_stock: '3\.0' is only for a rejection"
        ):
            repo.approve([row], by="omar")
        assert repo.current_policies().empty
        stored = repo.reject([row], by="omar", note="why not")
        assert stored["decision"].tolist() == ["rejected"]
