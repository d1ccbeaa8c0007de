"""Policies: versioned approved levels per item, append-only, with history."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest

from bufferwise.errors import InvalidInput
from bufferwise.storage import Repository, open_repository


@pytest.fixture
def repo(db_url: str) -> Iterator[Repository]:
    with open_repository(db_url) as repository:
        yield repository


def _levels(**overrides: float) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "item_id": ["A", "B"],
            "safety_stock": [10.0, 0.0],
            "reorder_point": [25.0, 4.0],
            "order_up_to": [60.0, None],
            "stance": ["jic", "jit"],
        }
    )
    for column, value in overrides.items():
        frame[column] = value
    return frame


def test_approve_history_and_current(repo: Repository) -> None:
    run_id = repo.start_run("analyze")
    repo.finish_run(run_id)
    first = repo.approve(_levels().assign(run_id=run_id), by="ana", note="first review")
    assert list(first["version"]) == [1, 1]
    second = repo.approve(
        [
            {
                "item_id": "A",
                "safety_stock": 12,
                "reorder_point": 28,
                "stance": "lean",
                "note": "spike",
            }
        ],
        by="ben",
    )
    assert list(second["version"]) == [2]

    history = repo.policy_history("A")
    assert list(history["version"]) == [1, 2]
    assert list(history["safety_stock"]) == [10.0, 12.0]
    assert list(history["approved_by"]) == ["ana", "ben"]
    assert list(history["note"]) == ["first review", "spike"]
    assert list(history["run_id"]) == [run_id, pd.NA]
    assert history["approved_at"].dtype == "datetime64[ns]"
    assert history["approved_at"].is_monotonic_increasing

    current = repo.current_policies()
    assert list(current["item_id"]) == ["A", "B"]
    assert list(current["version"]) == [2, 1]
    assert list(current["stance"]) == ["lean", "jit"]
    assert pd.isna(current.loc[1, "order_up_to"])
    assert repo.policy_history("nobody").empty


def test_approving_never_overwrites(repo: Repository) -> None:
    repo.approve(_levels(), by="ana")
    before = repo.snapshot()["policies"]
    repo.approve(_levels(safety_stock=99.0), by="ana")
    after = repo.snapshot()["policies"]
    assert len(after) == 2 * len(before)
    kept = after[after["version"] == 1].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, before)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (_levels(safety_stock=-1.0), "column safety_stock: '-1.0' must be a number >= 0"),
        (_levels().drop(columns=["stance"]), "column stance: is required"),
        (pd.concat([_levels(), _levels()]), "column item_id: 'A' appears twice"),
        (_levels(reorder_point=float("inf")), "must be a number >= 0"),
    ],
    ids=["negative", "missing-stance", "duplicate-item", "infinite"],
)
def test_bad_approvals_are_refused_and_write_nothing(
    repo: Repository, rows: pd.DataFrame, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        repo.approve(rows, by="ana")
    assert repo.current_policies().empty


def test_approver_is_required(repo: Repository) -> None:
    with pytest.raises(InvalidInput, match="say who approves"):
        repo.approve(_levels(), by=" ")
