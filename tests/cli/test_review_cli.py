"""`bufferwise reject` on the command line: usage (the reason is required), a run, and what
`review` and `history` show afterwards. The analysis is a recorded 'analyze' run with a
hand-made recommendations table (as tests/services/test_review.py stores it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from bufferwise.cli import app
from bufferwise.cli.common import EXIT_INPUT, EXIT_USAGE
from bufferwise.model import FileReport, ImportBatch
from bufferwise.storage import open_repository


def _invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), env={"BUFFERWISE_USER": "cli-user"})


def _plant(url: str, ss_a: float = 100.0) -> None:
    items = pd.DataFrame(
        {
            "item_id": ["A", "B"],
            "category": ["raw", "spare"],
            "unit_cost": [10.0, 100.0],
            "supplier_id": ["S1", "S2"],
            "nominal_lead_time_days": [10.0, 20.0],
            "current_safety_stock": [40.0, 6.0],
            "current_reorder_point": [90.0, 26.0],
        }
    )
    recommendations = pd.DataFrame(
        {
            "item_id": ["A", "B"],
            "stance": ["buffer", "lean"],
            "safety_stock": [ss_a, 5.0],
            "reorder_point": [ss_a + 50, 25.0],
            "order_up_to": [ss_a + 150, 45.0],
            "diagnosis": ["", ""],
            "diagnosis_detail": ["", ""],
            "diagnosis_money_per_year": [0.0, 0.0],
        }
    )
    batch = ImportBatch(
        tables={"items": items},
        files=[FileReport(file="items.csv", content_hash="h", mapping="canonical", rows_read=2)],
    )
    with open_repository(url) as repo:
        if repo.table_counts()["items"] == 0:
            repo.import_batch(batch)
        run_id = repo.start_run("analyze", settings={}, seed=1)
        repo.save_output(run_id, "recommendations", recommendations)
        repo.finish_run(run_id, "succeeded")


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'plant.db'}"
    _plant(url)
    return url


def _versions(url: str) -> int:
    with open_repository(url) as repo:
        return len(repo.snapshot()["policies"])


def test_reject_without_a_note_is_a_usage_error(db: str) -> None:
    result = _invoke("--db", db, "reject", "--item", "A")
    assert result.exit_code == EXIT_USAGE, result.output
    assert "--note" in result.output
    assert _versions(db) == 0


def test_reject_with_an_empty_note_or_no_selection_is_refused(db: str) -> None:
    result = _invoke("--db", db, "reject", "--item", "A", "--note", " ")
    assert result.exit_code == EXIT_INPUT, result.output
    assert "say why" in result.output
    result = _invoke("--db", db, "reject", "--note", "no")
    assert result.exit_code == EXIT_INPUT, result.output
    assert "say what to reject" in result.output
    result = _invoke(
        "--db", db, "reject", "--stance", "lean", "--category", "nosuch", "--note", "x"
    )
    assert result.exit_code == EXIT_INPUT, result.output
    assert "nothing rejected" in result.output and "--category nosuch" in result.output
    assert "raw, spare" in result.output and "--stance lean" not in result.output
    assert "Traceback" not in result.output
    assert _versions(db) == 0


def test_reject_refuses_a_missing_sqlite_file(tmp_path: Path) -> None:
    db = tmp_path / "typo.db"
    result = _invoke("--db", str(db), "reject", "--all", "--note", "x")
    assert result.exit_code == 1, result.output
    assert f"{db}: no such database" in result.output
    assert not db.exists()


def test_reject_review_history(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from bufferwise.cli.common import console

    monkeypatch.setattr(console, "width", 200)  # the history table in full, whatever $COLUMNS
    result = _invoke("--db", db, "review", "--format", "json")
    assert result.exit_code == 0, result.output
    assert {r["item_id"] for r in json.loads(result.output)} == {"A", "B"}

    result = _invoke("--db", db, "reject", "--item", "A", "--note", "too much stock")
    assert result.exit_code == 0, result.output
    assert "rejected 1 item(s) as cli-user" in result.output

    result = _invoke("--db", db, "review", "--format", "json")
    assert [r["item_id"] for r in json.loads(result.output)] == ["B"]

    result = _invoke("--db", db, "history", "A", "--format", "json")
    assert result.exit_code == 0, result.output
    (version,) = json.loads(result.output)
    assert version["decision"] == "rejected"
    assert (version["safety_stock"], version["reorder_point"]) == (40.0, 90.0)  # imported
    assert version["stance"] == "current"
    assert (version["rejected_safety_stock"], version["rejected_stance"]) == (100.0, "buffer")
    assert version["note"] == "too much stock" and version["approved_by"] == "cli-user"
    result = _invoke("--db", db, "history", "A")
    assert result.exit_code == 0 and "rejected" in result.output, result.output

    # the next analysis recommends 140 (+40% from the 100 rejected): A is back in review
    _plant(db, ss_a=140.0)
    result = _invoke("--db", db, "review", "--format", "json")
    back = {r["item_id"]: r for r in json.loads(result.output)}
    assert back["A"]["reasons"] == "level_moved"
    assert back["A"]["decision"] == "rejected"
    result = _invoke("--db", db, "approve", "--in-review", "--by", "lena", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert _versions(db) == 3  # A rejected then approved, B approved
