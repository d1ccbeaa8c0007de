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
from html import escape as html_escape
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from bufferwise.demo import read_truth
from bufferwise.report.exports import EXPORT_TABLES
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
    # the workbook: one sheet per exported CSV (report/exports.py, EXPORT_TABLES order), each
    # with the CSV's rows under its header row
    csvs = [work / "out" / f"{name}.csv" for name in EXPORT_TABLES]
    assert all(path.is_file() for path in csvs), sorted(p.name for p in (work / "out").iterdir())
    workbook = openpyxl.load_workbook(work / "out" / "bufferwise.xlsx", read_only=True)
    try:
        assert workbook.sheetnames == [name[:31] for name in EXPORT_TABLES]
        for name, path in zip(EXPORT_TABLES, csvs, strict=True):
            sheet_rows = sum(1 for _ in workbook[name[:31]].iter_rows(values_only=True))
            assert sheet_rows - 1 == len(pd.read_csv(path)), name  # less the header row
    finally:
        workbook.close()
    # the report names every item
    html = (work / "out" / "report.html").read_text(encoding="utf-8")
    missing = [i for i in items["item_id"] if html_escape(i) not in html]
    assert not missing, f"{len(missing)} items not in report.html, e.g. {missing[:5]}"
    truth = read_truth(work / "plant" / "truth.json")
    assert truth.seed == 42


def _new_running_run(db: Path, known: set[int]) -> bool:
    """Whether the database holds a run, not among `known`, with status 'running'."""
    if not db.exists():
        return False
    try:
        with open_repository(f"sqlite:///{db}", upgrade=False) as repo:
            return any(r.status == "running" and r.run_id not in known for r in repo.list_runs())
    except Exception:  # the database is busy being written: look again
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
    known = {run_id for run_id, _ in before_runs}
    try:
        # kill it the moment its run row reads 'running': the run is under way, far from done
        deadline = time.monotonic() + 60
        seen = False
        while time.monotonic() < deadline and proc.poll() is None:
            if _new_running_run(db, known):
                seen = True
                break
            time.sleep(0.1)
        if seen:
            proc.send_signal(signal.SIGKILL)
    finally:
        if proc.poll() is None and not seen:
            proc.kill()
        proc.wait(timeout=30)
    assert seen, f"no 'running' analyze run within 60 s (exit code {proc.returncode})"
    assert proc.returncode == -signal.SIGKILL, "analyze finished before it could be killed"

    with open_repository(url) as repo:
        runs = repo.list_runs()
        assert [(r.run_id, r.status) for r in runs if r.run_id in known] == before_runs
        # the killed one stays 'running' (SIGKILL leaves no time to mark it), never a result
        assert [r.status for r in runs if r.run_id not in known] == ["running"]
        pd.testing.assert_frame_equal(repo.current_policies(), before_policies)
        pd.testing.assert_frame_equal(repo.load_output("recommendations"), before_recs)

    _cli("analyze", "--out", str(tmp_path / "o3"), "--no-report", cwd=work)
    with open_repository(url) as repo:
        last = max(repo.list_runs(), key=lambda r: r.run_id)
        assert last.kind == "analyze" and last.status == "succeeded"
