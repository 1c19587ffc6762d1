"""`aloft dev`'s parts that need no process: which saves it sees (build output skipped) and how
it shows log lines (styles, colours, NO_COLOR). `aloft dev` for real: tests/integration/cli."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from aloft.access_log import parse, request_line
from aloft.cli.commands.dev import show_line
from aloft.cli.devserver import changed, snapshot
from aloft.cli.log_view import Shown, kind_of, output_style
from aloft.provider import LogLine


def test_snapshot_sees_saves_and_skips_build_output(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("a")
    (tmp_path / ".aloft").mkdir()
    (tmp_path / ".aloft" / "out.zip").write_text("z")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mod.py").write_text("m")
    before = snapshot(tmp_path)
    assert set(before) == {"app.py", os.path.join("pkg", "mod.py")}
    os.utime(tmp_path / "pkg" / "mod.py", ns=(1, before[os.path.join("pkg", "mod.py")] + 10**6))
    (tmp_path / "new.py").write_text("n")
    (tmp_path / ".aloft" / "out.zip").write_text("changed")
    assert changed(before, snapshot(tmp_path)) == ["new.py", os.path.join("pkg", "mod.py")]


def test_log_styles() -> None:
    assert output_style("START RequestId: 1 Version: 2") == "dim"
    assert output_style("REPORT RequestId: 1\tDuration: 1 ms") == "dim"
    assert output_style("[ERROR] ValueError: boom") == "red"
    assert output_style("Traceback (most recent call last):") == "red"
    assert output_style("hello") is None


def test_log_lines_in_colour(monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("TERM", "xterm-256color")
    for text in ("START RequestId: r1 Version: 3", "[ERROR] boom [not markup]", "plain"):
        show_line(Shown(LogLine(0.0, "app", text, "r1"), kind_of(text)))
    failed = request_line("GET", "/svc/dev/x", 500, 3.0, "r1")
    show_line(Shown(LogLine(0.0, "app", failed, "r1"), "request", parse(failed)))
    start, error, plain, request = capsys.readouterr().out.splitlines()
    assert "\x1b[2mSTART RequestId: r1" in start
    assert "\x1b[31m[ERROR] boom [not markup]" in error
    assert plain.endswith(" plain") and "app" in plain
    assert "\x1b[31m GET /svc/dev/x " in request and "500" in request
    monkeypatch.setenv("NO_COLOR", "1")
    show_line(Shown(LogLine(0.0, "app", "END x", "r1"), "runtime"))
    assert "\x1b[" not in capsys.readouterr().out
