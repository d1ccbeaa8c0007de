"""Shared fixtures: where the real public data sets are, database URLs for both back-ends."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
REFERENCE_CASES = REPO_ROOT.parent / "shared" / "reference_cases.json"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data (real public data sets; never copied into the repo)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data sets not found at {SHARED_DATA} (they sit beside the repo)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def reference_cases() -> dict[str, dict]:
    """../shared/reference_cases.json, by case name."""
    import json

    if not REFERENCE_CASES.is_file():
        pytest.skip(f"reference cases not found at {REFERENCE_CASES}")
    data = json.loads(REFERENCE_CASES.read_text())
    return {c["name"]: c for c in data["cases"]}


POSTGRES_URL = os.environ.get(
    "BUFFERWISE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
