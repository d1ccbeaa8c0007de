"""The main job end to end through the command line, as the README runs it (issue 7):
`bufferwise demo` then `bufferwise analyze` on the SQLite default, in a fresh working folder.

Also: a killed analyze leaves earlier runs and approved policies intact, and the next run
completes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from bufferwise.demo import read_truth
from bufferwise.storage import open_repository

pytestmark = pytest.mark.slow


def _cli(
    *args: str, cwd: Path, check: bool = True, **kw: object
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("BUFFERWISE_DB", None)
    proc = subprocess.run(
        [sys.executable, "-m", "bufferwise.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        **kw,  # type: ignore[arg-type]
    )
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


@pytest.fixture(scope="module")
def plant_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    work = tmp_path_factory.mktemp("work")
    _cli("demo", "--out", "plant", cwd=work)
    proc = _cli("analyze", "--out", "out", cwd=work)
    return work, proc


def test_analyze_uses_the_sqlite_default_and_prints_the_summary(plant_run) -> None:  # type: ignore[no-untyped-def]
    work, proc = plant_run
    assert (work / "bufferwise.db").is_file()
    out = proc.stdout
    assert "stances:" in out and "buffer value: now" in out and "top findings" in out
    # five findings, numbered, each with money
    for i in range(1, 6):
        assert f"  {i}. [" in out


def test_exports_and_report_hold_every_item(plant_run) -> None:  # type: ignore[no-untyped-def]
    work, _ = plant_run
    items = pd.read_csv(work / "plant" / "items.csv", dtype={"item_id": str})
    recs = pd.read_csv(work / "out" / "recommendations.csv", dtype={"item_id": str})
    assert sorted(recs["item_id"]) == sorted(items["item_id"])
    assert (work / "out" / "bufferwise.xlsx").is_file()
    html = (work / "out" / "report.html").read_text(encoding="utf-8")
    assert len(html) > 10_000
    truth = read_truth(work / "plant" / "truth.json")
    assert truth.seed == 42


def _running_run(db: Path) -> bool:
    if not db.exists():
        return False
    try:
        with open_repository(f"sqlite:///{db}", upgrade=False) as repo:
            return any(r.status == "running" for r in repo.list_runs())
    except Exception:
        return False


def test_killed_analyze_leaves_previous_results_intact(plant_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    work, _ = plant_run
    db = work / "bufferwise.db"
    _cli("approve", "--stance", "jit", "--by", "test", "--note", "before the crash", cwd=work)
    url = f"sqlite:///{db}"
    with open_repository(url) as repo:
        before_runs = [(r.run_id, r.status) for r in repo.list_runs()]
        before_policies = repo.current_policies()
        before_recs = repo.load_output("recommendations")

    env = {**os.environ}
    env.pop("BUFFERWISE_DB", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bufferwise.cli", "analyze", "--out", str(tmp_path / "o2")],
        cwd=work,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None and not _running_run(db):
        time.sleep(0.2)
    assert proc.poll() is None, "analyze finished before it could be killed"
    time.sleep(1.0)  # well inside the run
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)

    with open_repository(url) as repo:
        runs = repo.list_runs()
        assert [(r.run_id, r.status) for r in runs if r.run_id in dict(before_runs)] == before_runs
        assert any(r.status == "running" for r in runs)  # the killed one, never read as a result
        pd.testing.assert_frame_equal(repo.current_policies(), before_policies)
        pd.testing.assert_frame_equal(repo.load_output("recommendations"), before_recs)

    _cli("analyze", "--out", str(tmp_path / "o3"), "--no-report", cwd=work)
    with open_repository(url) as repo:
        last = max(repo.list_runs(), key=lambda r: r.run_id)
        assert last.kind == "analyze" and last.status == "succeeded"
