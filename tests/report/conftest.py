"""The example plant analysed twice (two databases, same settings and seed), once per session.

Each run generates the example plant (generator default seed), imports it into its own SQLite
database and runs `analyze` with the default settings, exactly as the README's first command
does; the exports and the HTML report of the first run are written once for all tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from bufferwise.demo import generate_plant
from bufferwise.report import write_exports, write_html_report
from bufferwise.services.analyze import AnalysisResult, analyze
from bufferwise.services.imports import import_files
from bufferwise.settings import Settings


@dataclass
class Written:
    result: AnalysisResult
    folder: Path
    exports: list[Path]
    report: Path


def _analyze_fresh(folder: Path) -> AnalysisResult:
    plant = folder / "plant"
    generate_plant(plant)
    url = f"sqlite:///{folder / 'plant.db'}"
    import_files(url, [plant])
    return analyze(url, Settings())


def _write(result: AnalysisResult, folder: Path) -> Written:
    exports = write_exports(result, folder / "exports")
    report = write_html_report(result, folder / "report.html")
    return Written(result, folder, exports, report)


@pytest.fixture(scope="session")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> Written:
    folder = tmp_path_factory.mktemp("run1")
    return _write(_analyze_fresh(folder), folder)


@pytest.fixture(scope="session")
def second_run(tmp_path_factory: pytest.TempPathFactory) -> Written:
    folder = tmp_path_factory.mktemp("run2")
    return _write(_analyze_fresh(folder), folder)


@pytest.fixture(scope="session")
def result(first_run: Written) -> AnalysisResult:
    return first_run.result
