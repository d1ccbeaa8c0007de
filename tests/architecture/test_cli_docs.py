"""Every command and every option of the command line is documented in docs/cli.md."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer

from bufferwise.cli import app

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def _commands() -> dict[str, object]:
    # typer >= 0.29 ships its own click; read the group duck-typed
    group = typer.main.get_command(app)
    return dict(group.commands)  # type: ignore[attr-defined]


def test_global_options_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    group = typer.main.get_command(app)
    for param in group.params:
        for opt in getattr(param, "opts", []):
            if opt.startswith("--"):
                assert f"`{opt}" in text, f"global option {opt} is not in docs/cli.md"


@pytest.mark.parametrize("name", sorted(_commands()))
def test_command_documented(name: str) -> None:
    text = DOC.read_text(encoding="utf-8")
    heading = f"## `bufferwise {name}`"
    assert heading in text, f"{heading} missing from docs/cli.md"
    section = text.split(heading, 1)[1].split("\n## ", 1)[0]
    cmd = _commands()[name]
    for param in cmd.params:  # type: ignore[attr-defined]
        if param.param_type_name == "option":
            long_opts = [o for o in param.opts if o.startswith("--")] or list(param.opts)
            for opt in long_opts:
                if opt == "--help":
                    continue
                assert f"`{opt}" in section, f"option {opt} of `{name}` is not documented"
        else:
            assert param.name and param.name.upper() in section, (
                f"argument {param.name} of `{name}` is not documented"
            )
