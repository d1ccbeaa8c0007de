"""Command-line defects a new user met walking through the commands (docs/cli.md):

1. `analyze` on a database without items (machine data only, or nothing) says so, exit 1,
   as `size` does, instead of an unexpected error;
2. `analyze PATHS` prints `import`'s report (rejected rows, warnings);
3. `status` names the batch's inserted / updated figures as the batch's;
4. every JSON output is strict JSON (null, never a bare NaN);
5. bad option values are usage errors (exit 2) naming the option as typed, while a settings
   file's stay exit 1;
6. usage lines name their arguments (PATHS..., FILE, ITEM_ID), an unknown item is called
   unknown, a closed output pipe ends quietly, --limit needs N >= 1, `status -f csv` writes one
   table.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import typer
from typer.main import get_command
from typer.testing import CliRunner

from bufferwise.cli import app
from bufferwise.cli.common import (
    EXIT_BROKEN_PIPE,
    EXIT_INPUT,
    EXIT_USAGE,
    OutputFormat,
    emit_frame,
    run_guarded,
    write_json,
)


def _invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def _strict_json(text: str) -> Any:
    """json.loads that refuses NaN, Infinity and -Infinity (not JSON)."""

    def refuse(constant: str) -> Any:
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def _no_surprise(result: Any) -> None:
    assert "unexpected" not in result.output
    assert "Traceback" not in result.output


# --- a small plant: 3 items, 120 days of demand, receipts (one with a bad date) -----------------

ITEMS = (
    "item_id,description,category,unit_cost,criticality,supplier_id,nominal_lead_time_days,"
    "current_safety_stock,current_reorder_point\n"
    "P-1,Part 1,spare,10,high,S1,5,10,30\n"
    "P-2,Part 2,spare,4,low,S1,5,,\n"
    "P-3,Part 3,raw,2,medium,S2,10,50,120\n"
)
MACHINES = "machine_id,name,ideal_cycle_time_s\nM1,Press,20\n"
EVENTS = (
    "machine_id,start,end,state,reason,component\n"
    "M1,2024-01-01 00:00:00,2024-01-01 06:00:00,running,,\n"
    "M1,2024-01-01 06:00:00,2024-01-01 07:00:00,down,jam,feeder\n"
    "M1,2024-01-01 07:00:00,2024-01-01 16:00:00,running,,\n"
    "M1,2024-01-02 00:00:00,2024-01-02 03:00:00,running,,\n"
    "M1,2024-01-02 03:00:00,2024-01-02 05:00:00,down,jam,feeder\n"
    "M1,2024-01-02 05:00:00,2024-01-02 16:00:00,running,,\n"
)


def _demand() -> str:
    rng = np.random.default_rng(7)
    days = pd.date_range("2024-01-01", periods=120, freq="D")
    lines = ["item_id,date,quantity"]
    for item, rate in (("P-1", 3.0), ("P-2", 0.4), ("P-3", 8.0)):
        for day, q in zip(days, rng.poisson(rate, len(days)), strict=True):
            lines.append(f"{item},{day.date()},{q}")
    return "\n".join(lines) + "\n"


def _receipts(bad_date: bool) -> str:
    lines = [
        "po_id,item_id,supplier_id,order_date,promised_date,received_date,qty_ordered,qty_received"
    ]
    for i in range(8):
        day = 1 + 10 * i
        order = pd.Timestamp("2024-01-01") + pd.Timedelta(days=day)
        received = order + pd.Timedelta(days=5 + i % 3)
        item = ("P-1", "P-2", "P-3")[i % 3]
        got = "2024-13-02" if bad_date and i == 4 else str(received.date())
        promised = (order + pd.Timedelta(days=5)).date()
        lines.append(f"PO-{i},{item},S{1 + i % 2},{order.date()},{promised},{got},50,50")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("walk")
    (d / "items.csv").write_text(ITEMS)
    (d / "demand.csv").write_text(_demand())
    (d / "bad").mkdir()
    (d / "bad" / "receipts.csv").write_text(_receipts(bad_date=True))
    (d / "machines.csv").write_text(MACHINES)
    (d / "machine_events.csv").write_text(EVENTS)
    return d


@pytest.fixture(scope="module")
def analyzed(files: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Any]:
    """A database made by `analyze PATHS --skip-bad-rows` (one receipt has a bad date)."""
    db = str(tmp_path_factory.mktemp("db") / "plant.db")
    out = tmp_path_factory.mktemp("out")
    result = _invoke(*_analyze_paths(db, files, out))
    return db, result


def _analyze_paths(db: str, files: Path, out: Path) -> list[str]:
    """`--db DB analyze` of items, demand and the receipts with one bad date, skipping it."""
    return [
        "--db",
        db,
        "analyze",
        str(files / "items.csv"),
        str(files / "demand.csv"),
        str(files / "bad" / "receipts.csv"),
        "--skip-bad-rows",
        "--no-report",
        "--out",
        str(out),
    ]


# --- 1. analyze without items --------------------------------------------------------------------


def test_analyze_on_machine_data_only_says_no_items_are_stored(files: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "machines.db")
    imported = _invoke(
        "--db", db, "import", str(files / "machines.csv"), str(files / "machine_events.csv")
    )
    assert imported.exit_code == 0, imported.output
    result = _invoke("--db", db, "analyze", "--no-report", "--out", str(tmp_path / "out"))
    _no_surprise(result)
    assert result.exit_code == EXIT_INPUT, result.output
    assert "no items are stored: import items first" in result.output
    assert "bufferwise equipment" in result.output  # what measures the machine data alone
    assert not (tmp_path / "out" / "recommendations.csv").exists()
    # the same words as size's
    sized = _invoke("--db", db, "size")
    assert sized.exit_code == EXIT_INPUT
    assert "no items are stored: import items first" in sized.output
    # decide runs the same job
    decided = _invoke("--db", db, "decide")
    assert decided.exit_code == EXIT_INPUT
    assert "no items are stored" in decided.output


def test_analyze_on_an_empty_database_says_no_items_are_stored(tmp_path: Path) -> None:
    result = _invoke(
        "--db", str(tmp_path / "e.db"), "analyze", "--no-report", "--out", str(tmp_path / "o")
    )
    _no_surprise(result)
    assert result.exit_code == EXIT_INPUT
    assert "no items are stored: import items first" in result.output
    assert "bufferwise equipment" not in result.output  # no machine data either


# --- 2. analyze PATHS prints the import report -----------------------------------------------


def test_analyze_paths_prints_the_import_report(analyzed: tuple[str, Any]) -> None:
    _, result = analyzed
    assert result.exit_code == 0, result.output
    out = result.output
    # import's report: files read, the rejected row named, what was stored; then the summary
    assert "read and checked" in out
    assert "receipts.csv" in out
    assert "bad_date: 1" in out
    assert "2024-13-02" in out
    assert "rows added" in out
    assert out.index("read and checked") < out.index("analysis run")


def test_analyze_paths_json_keeps_stdout_one_document(files: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    db = str(tmp_path / "j.db")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bufferwise.cli",
            *_analyze_paths(db, files, tmp_path / "out"),
            "-f",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    summary = _strict_json(proc.stdout)
    assert summary[0]["items"] == 3
    assert "bad_date: 1" in proc.stderr  # the import report went to stderr
    assert "2024-13-02" in proc.stderr


# --- 3. status: the batch's figures are named so; one table per csv ---------------------------


def test_status_names_batch_figures_and_writes_one_csv_table(analyzed: tuple[str, Any]) -> None:
    db, _ = analyzed
    table = _invoke("--db", db, "status")
    assert table.exit_code == 0, table.output
    assert "batch_inserted" in table.output
    assert "not each file's own" in table.output

    js = _invoke("--db", db, "status", "-f", "json")
    assert js.exit_code == 0
    payload = _strict_json(js.stdout)
    rows = payload["imports"]
    assert len(rows) == 3 and len({r["batch"] for r in rows}) == 1  # one batch of three files
    assert {r["batch_inserted"] for r in rows} == {rows[0]["batch_inserted"]}
    assert "inserted" not in rows[0]  # no column that reads as the file's own figure
    assert [r["rejected"] for r in rows] == [0, 0, 1]  # the files' own counts

    mixed = _invoke("--db", db, "status", "-f", "csv")
    assert mixed.exit_code == EXIT_USAGE
    assert "--table" in mixed.output
    one = _invoke("--db", db, "status", "-f", "csv", "--table", "imports")
    assert one.exit_code == 0
    lines = one.stdout.strip().splitlines()
    assert lines[0].startswith("import,batch,file,")
    assert len(lines) == 4  # header + one row per file, no second table
    tables = _invoke("--db", db, "status", "-f", "json", "-t", "tables")
    assert {r["table"] for r in _strict_json(tables.stdout)} >= {"items", "demand"}


# --- 4. strict JSON -----------------------------------------------------------------------------


def test_write_json_writes_null_for_missing_and_infinite_values(
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_json(
        {
            "nan": float("nan"),
            "np_nan": np.float64("nan"),
            "inf": float("inf"),
            "ninf": -np.inf,
            "nat": pd.NaT,
            "na": pd.NA,
            "n": np.int64(3),
            "b": np.bool_(True),
            "when": pd.Timestamp("2024-01-02"),
            "nested": [{"x": np.nan}, (1.5, None)],
        }
    )
    got = _strict_json(capsys.readouterr().out)
    assert got == {
        "nan": None,
        "np_nan": None,
        "inf": None,
        "ninf": None,
        "nat": None,
        "na": None,
        "n": 3,
        "b": True,
        "when": "2024-01-02T00:00:00",
        "nested": [{"x": None}, [1.5, None]],
    }


def test_emit_frame_json_is_strict(capsys: pytest.CaptureFixture[str]) -> None:
    df = pd.DataFrame(
        {
            "item_id": ["A", "B"],
            "rejected_safety_stock": [np.nan, 4.0],
            "at": [pd.NaT, pd.Timestamp("2024-01-01")],
            "x": [np.inf, 1.0],
        }
    )
    emit_frame(df, OutputFormat.json)
    rows = _strict_json(capsys.readouterr().out)
    assert rows[0] == {"item_id": "A", "rejected_safety_stock": None, "at": None, "x": None}
    assert rows[1]["rejected_safety_stock"] == 4.0


def test_decide_json_is_strict(analyzed: tuple[str, Any]) -> None:
    db, _ = analyzed
    result = _invoke("--db", db, "decide", "-f", "json")
    assert result.exit_code == 0, result.output
    rows = _strict_json(result.stdout)
    assert len(rows) == 3
    # P-2 has no current levels: null, not NaN
    p2 = next(r for r in rows if r["item_id"] == "P-2")
    assert p2["current_safety_stock"] is None


def test_history_json_is_strict(analyzed: tuple[str, Any]) -> None:
    db, _ = analyzed
    done = _invoke("--db", db, "approve", "--item", "P-1", "--by", "tester")
    assert done.exit_code == 0, done.output
    result = _invoke("--db", db, "history", "P-1", "-f", "json")
    assert result.exit_code == 0, result.output
    (row,) = _strict_json(result.stdout)
    assert row["decision"] == "approved"
    assert row["rejected_safety_stock"] is None


# --- 5. bad option values are usage errors naming the option ----------------------------------


@pytest.mark.parametrize(
    ("args", "option", "internal"),
    [
        (("size", "--target", "1.5"), "'--target'", "[sizing]"),
        (("size", "--target", "nan"), "'--target'", "[sizing]"),
        (("size", "--service-type", "fillrate"), "'--service-type'", "[sizing]"),
        (("import", "--table", "receipt", "x.csv"), "'--table'", "canonical table (expected"),
        (("validate", "--table", "receipt", "x.csv"), "'--table'", None),
        (("backtest", "--dataset", "raf", "--target", "1.2"), "--target 1.2", None),
        (("backtest", "--decide"), "--decide needs --dataset carparts", None),
        (
            ("equipment", "--target-line-efficiency", "1.5"),
            "'--target-line-efficiency'",
            "ReadinessCriteria",
        ),
        (("equipment", "--micro-stop-s", "-5"), "'--micro-stop-s'", "OeeConventions"),
        (("size", "--limit", "-1"), "'--limit'", None),
        (("decide", "--limit", "0"), "'--limit'", None),
    ],
)
def test_bad_option_values_are_usage_errors(
    tmp_path: Path, args: tuple[str, ...], option: str, internal: str | None
) -> None:
    result = _invoke("--db", str(tmp_path / "u.db"), *args)
    _no_surprise(result)
    assert result.exit_code == EXIT_USAGE, result.output
    assert option in result.output
    if internal == "canonical table (expected":
        assert internal in result.output  # the choices are listed
    elif internal is not None:
        assert internal not in result.output  # no internal name


def test_every_limit_option_needs_at_least_one() -> None:
    group: Any = get_command(app)
    found = 0
    for name, command in group.commands.items():
        for param in command.params:
            if "--limit" in getattr(param, "opts", ()):
                assert getattr(param, "min", None) == 1, name
                found += 1
    assert found >= 7


def test_a_bad_settings_file_value_stays_exit_1(tmp_path: Path) -> None:
    settings = tmp_path / "s.toml"
    settings.write_text("[sizing]\nservice_target = 1.5\n")
    result = _invoke("--db", str(tmp_path / "s.db"), "size", "--settings", str(settings))
    assert result.exit_code == EXIT_INPUT
    assert "s.toml: [sizing] service_target = 1.5" in result.output
    eq = tmp_path / "e.toml"
    eq.write_text("[equipment]\ntarget_line_efficiency = 1.5\n")
    result = _invoke("--db", str(tmp_path / "s.db"), "equipment", "--settings", str(eq))
    assert result.exit_code == EXIT_INPUT
    assert "[equipment] target_line_efficiency" in result.output


# --- 6. usage lines, unknown items, closed pipes --------------------------------------------


@pytest.mark.parametrize(
    ("command", "usage"),
    [
        ("import", "bufferwise import [OPTIONS] PATHS..."),
        ("validate", "bufferwise validate [OPTIONS] PATHS..."),
        ("analyze", "bufferwise analyze [OPTIONS] [PATHS]..."),
        ("scenario", "bufferwise scenario [OPTIONS] FILE"),
        ("history", "bufferwise history [OPTIONS] ITEM_ID"),
    ],
)
def test_usage_lines_name_the_arguments(command: str, usage: str) -> None:
    result = _invoke(command, "--help")
    assert result.exit_code == 0
    first = result.output.splitlines()[0]
    assert first == f"Usage: {usage}"
    assert "{" not in first


def test_history_of_an_unknown_item_says_it_is_unknown(analyzed: tuple[str, Any]) -> None:
    db, _ = analyzed
    unknown = _invoke("--db", db, "history", "P-9999")
    assert unknown.exit_code == EXIT_INPUT
    assert "unknown item 'P-9999'" in unknown.output
    assert "no approved policy" not in unknown.output
    known = _invoke("--db", db, "history", "P-3")  # stored, never approved
    assert known.exit_code == EXIT_INPUT
    assert "has no approved policy yet" in known.output


def test_a_closed_output_pipe_ends_quietly(capsys: pytest.CaptureFixture[str]) -> None:
    def body() -> None:
        raise BrokenPipeError(32, "Broken pipe")

    with pytest.raises(typer.Exit) as exc:
        run_guarded(body)
    assert exc.value.exit_code == EXIT_BROKEN_PIPE
    assert "Broken pipe" not in capsys.readouterr().err


def test_size_csv_into_head_prints_no_error(analyzed: tuple[str, Any]) -> None:
    import subprocess
    import sys

    db, _ = analyzed
    # the reader takes one line and closes the pipe; the writer must not say "error"
    proc = subprocess.run(
        f"{sys.executable} -m bufferwise.cli --db {db} size -f csv --method analytic "
        "| head -1 >/dev/null; echo ${PIPESTATUS[0]}",
        shell=True,
        executable="/bin/bash",
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert "error" not in proc.stderr.lower(), proc.stderr
    assert proc.stdout.strip() in ("0", str(EXIT_BROKEN_PIPE))
