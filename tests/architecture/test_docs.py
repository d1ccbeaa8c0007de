"""The documented data model is the one in code: docs/data-model.md embeds the generated tables."""

from __future__ import annotations

from pathlib import Path

from bufferwise.model.docs import BEGIN, END, render_tables

DOC = Path(__file__).resolve().parents[2] / "docs" / "data-model.md"


def test_data_model_doc_matches_schema() -> None:
    text = DOC.read_text(encoding="utf-8")
    start, stop = text.index(BEGIN), text.index(END) + len(END)
    assert text[start:stop] == render_tables(), (
        "docs/data-model.md is out of date: regenerate the tables section with "
        "`python -m bufferwise.model.docs`"
    )
