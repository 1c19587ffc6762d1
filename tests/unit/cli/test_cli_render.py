from __future__ import annotations

import re
from pathlib import Path

from aloft.cli.render import human_size
from tests.unit.cli.cli_helpers import Run, write

ANSI = re.compile(r"\x1b\[[0-9;]*m")
CONFIG = {"aloft.yml": "service: demo\napp: app:app\n", "app.py": "app = object()\n"}


def test_styles_are_used_when_colour_is_forced(run: Run, tmp_path: Path) -> None:
    write(tmp_path, CONFIG)
    result = run("validate", env={"FORCE_COLOR": "1"})
    assert result.exit_code == 0, result.output
    assert ANSI.search(result.output)


def test_no_color_turns_every_style_off(run: Run, tmp_path: Path) -> None:
    write(tmp_path, CONFIG)
    result = run("validate", env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    assert not ANSI.search(result.output)
    assert "demo stage dev" in result.stdout


def test_human_size() -> None:
    assert [human_size(n) for n in (0, 999, 1000, 1_234_567, 5 * 10**9)] == [
        "0 B", "999 B", "1.0 kB", "1.2 MB", "5.0 GB",
    ]


def test_table_cells_that_are_not_text_are_shown_for_people() -> None:
    from rich.console import Console

    from aloft.cli import render

    console = Console(width=120, color_system=None)
    with console.capture() as captured:
        console.print(render.table(None, ["name", "enabled", "versions", "next"],
                                   [("a", True, {"app": 1}, None), ("b", False, [], 2.5)]))
    lines = [line.rstrip() for line in captured.get().splitlines()]
    assert lines == ["name  enabled  versions  next",
                     "a     yes      app: 1       -",
                     "b     no       -          2.5"]
