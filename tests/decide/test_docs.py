"""docs/decide.md names every setting and every decision column (so the page cannot drift)."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from bufferwise.decide import DECISION_COLUMNS, DecideSettings, DiagnoseSettings

DOC = Path(__file__).resolve().parents[2] / "docs" / "decide.md"


def test_every_setting_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for cls in (DecideSettings, DiagnoseSettings):
        for f in fields(cls):
            assert f"`{f.name}`" in text, f"{cls.__name__}.{f.name} is not in docs/decide.md"


def test_every_decision_column_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for column in DECISION_COLUMNS:
        assert column in text, f"column {column} is not in docs/decide.md"
