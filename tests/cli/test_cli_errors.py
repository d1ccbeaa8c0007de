"""Command-line defects of the review: usage errors exit 2 (not 4), `analyze --out` fails fast
and never leaves a half-written folder, `approve` refuses filters that select nothing, --help
keeps square brackets, read-only commands do not create a database on a mistyped path, every
default is documented, and Ctrl-C is recorded as 'cancelled'.

The fast tests need no data; the `plant` ones (marked slow) run on the example plant.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.main import get_command
from typer.testing import CliRunner

from bufferwise.cli import app
from bufferwise.cli.common import (
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    EXIT_STORAGE,
    EXIT_USAGE,
    run_guarded,
)
from bufferwise.cli.review import Stance
from bufferwise.errors import InvalidInput
from bufferwise.report.exports import (
    STAGING_PREFIX,
    check_out_dir,
    export_file_names,
    staged_folder,
)
from bufferwise.services.runs import recorded_run
from bufferwise.storage import open_repository
from bufferwise.storage.engine import sqlite_hint, sqlite_path

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def _one_line_error(result: Any) -> None:
    assert "unexpected" not in result.output
    assert "Traceback" not in result.output


# --- 1. usage errors are exit 2 --------------------------------------------------------------


def test_strict_with_skip_bad_rows_is_a_usage_error(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    f = tmp_path / "items.csv"
    f.write_text("item_id,unit_cost\nP1,1\n")
    result = _invoke("--db", str(db), "import", str(f), "--strict", "--skip-bad-rows")
    assert result.exit_code == EXIT_USAGE == 2, result.output
    assert "exclude each other" in result.output
    _one_line_error(result)
    assert not db.exists()


def test_size_target_that_is_not_a_number_is_a_usage_error(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    result = _invoke("--db", str(db), "size", "--target", "abc")
    assert result.exit_code == 2, result.output
    assert "'abc'" in result.output and "--target" in result.output
    _one_line_error(result)
    assert not db.exists()


def test_usage_errors_pass_through_run_guarded() -> None:
    def body() -> None:
        raise typer.BadParameter("nope")

    with pytest.raises(typer.BadParameter):
        run_guarded(body)


def test_os_error_is_one_line_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    def body() -> None:
        raise PermissionError(13, "Permission denied", "/some/where.csv")

    with pytest.raises(typer.Exit) as raised:
        run_guarded(body)
    assert raised.value.exit_code == EXIT_INPUT
    err = capsys.readouterr().err
    assert "/some/where.csv: Permission denied" in err and "unexpected" not in err


# --- 2. analyze --out: fail fast, staged, OSError named ------------------------------------


def test_analyze_out_that_is_a_file_fails_before_the_analysis(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    out = tmp_path / "outfile"
    out.write_text("not a folder")
    result = _invoke("--db", str(db), "analyze", "--out", str(out))
    assert result.exit_code == 1, result.output
    assert "exists and is not a folder" in result.output
    _one_line_error(result)
    assert not db.exists(), "the analysis ran (and created the database) before --out failed"
    result = _invoke("--db", str(db), "analyze", "--out", str(out / "sub"))
    assert result.exit_code == 1 and "is not a folder" in result.output, result.output


def test_check_out_dir(tmp_path: Path) -> None:
    assert check_out_dir(tmp_path / "new" / "deeper") == tmp_path / "new" / "deeper"
    (tmp_path / "f").write_text("")
    with pytest.raises(InvalidInput, match="exists and is not a folder"):
        check_out_dir(tmp_path / "f")


def _previous_run(out: Path) -> dict[str, str]:
    out.mkdir()
    files = {
        "recommendations.csv": "old recommendations",
        "machines.csv": "old machines",
        "report.html": "old report",
        "notes.txt": "the user's own file",
    }
    for name, text in files.items():
        (out / name).write_text(text)
    return files


def _contents(out: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in out.iterdir()}


def test_staged_folder_keeps_the_previous_run_on_interrupt(tmp_path: Path) -> None:
    out = tmp_path / "out"
    before = _previous_run(out)
    own = [*export_file_names(), "report.html"]
    with pytest.raises(KeyboardInterrupt), staged_folder(out, replaces=own) as stage:
        (stage / "recommendations.csv").write_text("new")
        raise KeyboardInterrupt
    assert _contents(out) == before  # nothing new, nothing removed, no staging folder left


def test_staged_folder_replaces_and_removes_stale_own_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _previous_run(out)
    with staged_folder(out, replaces=[*export_file_names(), "report.html"]) as stage:
        (stage / "recommendations.csv").write_text("new")
        (stage / "totals.csv").write_text("new totals")
    # machines.csv and report.html were the previous run's: gone; the user's file is kept
    assert _contents(out) == {
        "recommendations.csv": "new",
        "totals.csv": "new totals",
        "notes.txt": "the user's own file",
    }


def test_staged_folder_turns_os_errors_into_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    before = _previous_run(out)

    def full(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device", str(src))

    monkeypatch.setattr("bufferwise.report.exports.os.replace", full)
    with pytest.raises(InvalidInput) as raised, staged_folder(out) as stage:
        (stage / "recommendations.csv").write_text("new")
    message = str(raised.value)
    assert message == f"{out / 'recommendations.csv'}: cannot write the exports: " + (
        "No space left on device"
    )
    assert _contents(out) == before
    assert not any(p.name.startswith(STAGING_PREFIX) for p in out.iterdir())


# --- 4. help keeps square brackets ---------------------------------------------------------


def test_scenario_help_shows_the_toml_table_name() -> None:
    result = _invoke("scenario", "--help")
    assert result.exit_code == 0
    assert "[[scenarios]]" in result.output


def test_every_bracket_in_every_help_text_is_shown() -> None:
    group: Any = get_command(app)  # a click Group (typer may carry its own copy of click)
    checked = 0
    for name, command in group.commands.items():
        shown = " ".join(_invoke(name, "--help").output.split())
        texts = [command.help or ""] + [getattr(p, "help", None) or "" for p in command.params]
        for text in texts:
            for token in re.findall(r"\[+[^\]\[]*\]+", text):
                assert " ".join(token.split()) in shown, f"{name} --help lost {token!r}"
                checked += 1
    assert checked >= 2  # [[scenarios]] and [review] at least


# --- 5. read-only commands never create a database ----------------------------------------


@pytest.mark.parametrize(
    "args",
    [("status",), ("review",), ("history", "P-0001"), ("approve", "--all")],
    ids=lambda a: a[0],
)
def test_read_only_command_refuses_a_missing_sqlite_file(tmp_path: Path, args: tuple) -> None:
    db = tmp_path / "typo.db"
    result = _invoke("--db", str(db), *args)
    assert result.exit_code == 1, result.output
    assert f"{db}: no such database" in result.output
    _one_line_error(result)
    assert not db.exists()


def test_sqlite_path() -> None:
    assert sqlite_path("sqlite:////tmp/a.db") == Path("/tmp/a.db")
    assert sqlite_path("sqlite://") is None
    assert sqlite_path("sqlite:///:memory:") is None
    assert sqlite_path("postgresql://u@h/db") is None
    assert sqlite_path("sqlite+pysqlite:////tmp/a.db") == Path("/tmp/a.db")


@pytest.mark.parametrize("scheme", ["sqlite", "sqlite+pysqlite"])
def test_validate_never_creates_a_missing_sqlite_file(tmp_path: Path, scheme: str) -> None:
    from bufferwise.services.imports import _stored_readonly, validate_files

    db = tmp_path / "typo.db"
    url = f"{scheme}:///{db}"  # an absolute path: sqlite:////tmp/...
    f = tmp_path / "items.csv"
    f.write_text("item_id,unit_cost,nominal_lead_time_days\nP1,1,5\n")
    assert _stored_readonly(url) == (None, {})
    summary = validate_files([f], db_url=url)
    assert not summary.batch.problems
    assert not db.exists()
    result = _invoke("--db", url, "validate", str(f))
    assert result.exit_code == 0, result.output
    assert not db.exists()


def test_a_file_that_is_not_a_database_gets_its_own_hint(tmp_path: Path) -> None:
    db = tmp_path / "notes.db"
    db.write_text("hello")
    result = _invoke("--db", str(db), "status")
    assert result.exit_code == EXIT_STORAGE, result.output
    assert "not a SQLite database" in result.output
    assert "folder exists" not in result.output


def test_sqlite_hints() -> None:
    assert "not a SQLite database" in sqlite_hint("file is not a database")
    assert "folder exists" in sqlite_hint("unable to open database file")
    assert "writable" in sqlite_hint("attempt to write a readonly database")
    assert "try again" in sqlite_hint("database is locked")


# --- 6. documentation and the cancelled state ---------------------------------------------


def _sections() -> dict[str, str]:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    parts = re.split(r"^## `bufferwise (\w+)`$", text, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_every_limit_default_is_documented() -> None:
    # every option is in docs/cli.md (tests/architecture/test_cli_docs.py); --limit's default
    # differs by command, so each section must give it
    sections = _sections()
    group: Any = get_command(app)  # a click Group (typer may carry its own copy of click)
    found = 0
    for name, command in group.commands.items():
        for param in command.params:
            if "--limit" in getattr(param, "opts", ()):
                row = next(
                    line for line in sections[name].splitlines() if line.startswith("| `--limit`")
                )
                assert f"default {param.default}" in row, f"{name} --limit default not in docs"
                found += 1
    assert found >= 7


def test_settings_doc_lists_every_command_that_takes_settings() -> None:
    intro = (DOCS / "settings.md").read_text(encoding="utf-8").split("\n\n")[1]
    group: Any = get_command(app)  # a click Group (typer may carry its own copy of click)
    takes = [
        name
        for name, command in group.commands.items()
        if any("--settings" in getattr(p, "opts", ()) for p in command.params)
    ]
    assert takes
    for name in takes:
        assert f"`{name}`" in intro, f"docs/settings.md does not say `{name}` takes --settings"


def test_stance_choices_are_decides_stances() -> None:
    from bufferwise.decide.stance import STANCES

    assert tuple(s.value for s in Stance) == STANCES


def test_interrupted_run_is_recorded_as_cancelled(tmp_path: Path) -> None:
    with open_repository(f"sqlite:///{tmp_path / 'r.db'}") as repo:
        with pytest.raises(KeyboardInterrupt), recorded_run(repo, "size", {}, seed=1):
            raise KeyboardInterrupt
        with pytest.raises(ValueError), recorded_run(repo, "size", {}, seed=1):
            raise ValueError("broken")
        with recorded_run(repo, "size", {}, seed=1):
            pass
        assert [r.status for r in repo.list_runs()] == ["cancelled", "failed", "succeeded"]


# --- on the example plant: approve and analyze ----------------------------------------------


@pytest.fixture(scope="module")
def plant(tmp_path_factory: pytest.TempPathFactory) -> str:
    from bufferwise.demo import generate_plant
    from bufferwise.services.imports import import_files

    base = tmp_path_factory.mktemp("plant")
    generate_plant(base / "data")
    url = f"sqlite:///{base / 'plant.db'}"
    import_files(url, [base / "data"])
    result = _invoke("--db", url, "analyze", "--out", str(base / "out"), "--no-report")
    assert result.exit_code == 0, result.output
    return url


def _policy_count(url: str) -> int:
    """Approved versions stored, of every item."""
    import sqlalchemy as sa

    from bufferwise.storage import tables

    with open_repository(url) as repo, repo.engine.connect() as conn:
        return int(
            conn.execute(sa.select(sa.func.count()).select_from(tables.policies)).scalar_one()
        )


@pytest.mark.slow
def test_approve_unknown_stance_is_a_usage_error(plant: str) -> None:
    before = _policy_count(plant)
    result = _invoke("--db", plant, "approve", "--stance", "leen")
    assert result.exit_code == 2, result.output
    assert "leen" in result.output and "lean" in result.output
    assert _policy_count(plant) == before


@pytest.mark.slow
def test_approve_filters_that_match_nothing_are_an_error(plant: str) -> None:
    before = _policy_count(plant)
    result = _invoke("--db", plant, "approve", "--stance", "jit", "--category", "nosuch")
    assert result.exit_code == 1, result.output
    assert "--category nosuch" in result.output and "spare" in result.output  # values there are
    assert "--stance jit" not in result.output  # that filter matches items
    _one_line_error(result)
    assert _policy_count(plant) == before


@pytest.mark.slow
def test_approve_limit_and_more_line(plant: str) -> None:
    result = _invoke("--db", plant, "approve", "--stance", "lean", "--by", "t", "--limit", "2")
    assert result.exit_code == 0, result.output
    approved = int(re.search(r"approved (\d+) item", result.output).group(1))  # type: ignore[union-attr]
    assert approved > 2
    assert f"... {approved - 2} more" in result.output


@pytest.mark.slow
def test_analyze_interrupted_while_writing_keeps_the_previous_exports(
    plant: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    before = _previous_run(out)

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("bufferwise.report.write_html_report", interrupted)
    result = _invoke("--db", plant, "analyze", "--out", str(out))
    assert result.exit_code == EXIT_INTERRUPTED, result.output
    assert _contents(out) == before


@pytest.mark.slow
def test_analyze_no_report_removes_the_previous_report(plant: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _previous_run(out)
    result = _invoke("--db", plant, "analyze", "--out", str(out), "--no-report")
    assert result.exit_code == 0, result.output
    names = {p.name for p in out.iterdir()}
    assert "report.html" not in names and "notes.txt" in names
    assert {"recommendations.csv", "bufferwise.xlsx"} <= names
    assert (out / "recommendations.csv").read_text() != "old recommendations"
