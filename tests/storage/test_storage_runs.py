"""Runs and outputs: per-run result tables, only succeeded runs are read, kills leave no harm."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from bufferwise.errors import StorageError
from bufferwise.storage import Repository, open_repository


@pytest.fixture
def repo(db_url: str) -> Iterator[Repository]:
    with open_repository(db_url) as repository:
        yield repository


def _profiles(scale: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item_id": ["A", "B", "C"],
            "demand_mean": [1.5 * scale, 2.0 * scale, 0.25 * scale],
            "pattern": ["smooth", "erratic", "lumpy"],
            "since": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]),
        }
    )


def test_run_lifecycle_and_outputs(repo: Repository) -> None:
    run_id = repo.start_run(
        "profile",
        settings={"bucket": "day", "service": 0.95},
        seed=42,
        inputs={"demand.csv": "abc"},
    )
    repo.save_output(run_id, "profiles", _profiles(1.0))
    repo.save_output(run_id, "empty", pd.DataFrame({"x": pd.Series([], dtype="float64")}))
    (running,) = repo.list_runs()
    assert (running.status, running.finished_at, running.outputs) == (
        "running",
        None,
        ("empty", "profiles"),
    )
    with pytest.raises(StorageError, match="no output 'profiles' in any succeeded run"):
        repo.load_output("profiles")
    pdt.assert_frame_equal(repo.load_output("profiles", include_unfinished=True), _profiles(1.0))

    repo.finish_run(run_id, "succeeded", timings={"profile": 1.25})
    (done,) = repo.list_runs()
    assert done.status == "succeeded" and done.finished_at is not None
    assert done.settings == {"bucket": "day", "service": 0.95}
    assert (done.seed, done.inputs, done.timings) == (42, {"demand.csv": "abc"}, {"profile": 1.25})
    assert done.code_version
    pdt.assert_frame_equal(repo.load_output("profiles"), _profiles(1.0))
    pdt.assert_frame_equal(repo.load_output("profiles", run_id), _profiles(1.0))
    assert repo.load_output("empty").empty


def test_latest_succeeded_run_wins(repo: Repository) -> None:
    first = repo.start_run("profile")
    repo.save_output(first, "profiles", _profiles(1.0))
    repo.finish_run(first)
    second = repo.start_run("profile")
    repo.save_output(second, "profiles", _profiles(2.0))
    repo.finish_run(second, "failed", message="stopped by user")
    third = repo.start_run("profile")
    repo.save_output(third, "profiles", _profiles(3.0))  # still running
    pdt.assert_frame_equal(repo.load_output("profiles"), _profiles(1.0))
    with pytest.raises(StorageError, match=f"no output 'profiles' in run {second}"):
        repo.load_output("profiles", second)
    repo.finish_run(third)
    pdt.assert_frame_equal(repo.load_output("profiles"), _profiles(3.0))
    assert [r.status for r in repo.list_runs()] == ["succeeded", "failed", "succeeded"]


def test_finished_runs_are_frozen(repo: Repository) -> None:
    run_id = repo.start_run("size")
    repo.finish_run(run_id)
    with pytest.raises(StorageError, match="is succeeded; outputs can only be added while it runs"):
        repo.save_output(run_id, "levels", _profiles(1.0))
    with pytest.raises(StorageError, match="already succeeded"):
        repo.finish_run(run_id, "failed")
    with pytest.raises(ValueError, match="status must be one of"):
        repo.finish_run(repo.start_run("size"), "done")
    with pytest.raises(StorageError, match="there is no run 999"):
        repo.save_output(999, "levels", _profiles(1.0))


def test_killed_run_leaves_earlier_runs_and_policies_intact(db_url: str) -> None:
    with open_repository(db_url) as repo:
        earlier = repo.start_run("analyze", seed=1)
        repo.save_output(earlier, "decisions", _profiles(1.0))
        repo.finish_run(earlier)
        repo.approve(
            [{"item_id": "A", "safety_stock": 5, "reorder_point": 9, "stance": "jic"}], by="ana"
        )
        before = repo.snapshot()
    script = textwrap.dedent(
        f"""
        import os, signal, pandas as pd
        from bufferwise.storage import open_repository
        repo = open_repository({db_url!r})
        run = repo.start_run("analyze", seed=2)
        repo.save_output(run, "decisions", pd.DataFrame({{"item_id": ["A"], "x": [9.0]}}))
        print(run, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    killed = int(done.stdout.strip())
    with open_repository(db_url) as repo:
        runs = {r.run_id: r for r in repo.list_runs()}
        assert runs[killed].status == "running" and runs[killed].outputs == ("decisions",)
        pdt.assert_frame_equal(repo.load_output("decisions"), _profiles(1.0))
        after = repo.snapshot()
        for name in ("policies", *[n for n in before if n not in ("runs", "run_outputs")]):
            pdt.assert_frame_equal(before[name], after[name], obj=name)
        next_run = repo.start_run("analyze", seed=3)
        repo.finish_run(next_run)
        assert next_run > killed


def test_settings_that_are_not_json_are_refused(repo: Repository) -> None:
    with pytest.raises(StorageError, match="run settings cannot be stored as JSON"):
        repo.start_run("size", settings={"level": float("nan")})
    with pytest.raises(StorageError, match="run inputs cannot be stored as JSON: set"):
        repo.start_run("size", inputs={"files": {"a.csv", "b.csv"}})
    run_id = repo.start_run(
        "size", settings={"since": pd.Timestamp("2024-01-01").date(), "n": np.int64(3)}
    )
    assert repo.list_runs()[-1].settings == {"since": "2024-01-01", "n": 3}
    assert repo.list_runs()[-1].run_id == run_id
