"""The daemon's settings through `aloft cloud start` in a terminal: one that is not a number
stops the start with its name and fix (no daemon left running); the log store's cap shows in
`aloft cloud status`."""

from __future__ import annotations

import re
from pathlib import Path

from tests.pty.conftest import Cloud


def test_a_wrong_setting_stops_the_start_with_its_name_and_fix(cloud: Cloud, tmp_path: Path
                                                                ) -> None:
    done = cloud.run("cloud", "start", cwd=tmp_path, timeout=60, ALOFT_LOG_MAX_MB="lots")
    assert done.code == 1, done.text
    assert "ALOFT_LOG_MAX_MB='lots'" in done.text and "not a number above 0" in done.text
    assert "fix: unset ALOFT_LOG_MAX_MB (default 1024)" in done.text
    assert "Traceback" not in done.text
    status = cloud.run("cloud", "status", cwd=tmp_path)
    assert "not running" in status.text, status.text


def test_cloud_status_shows_the_log_store_against_its_cap(cloud: Cloud, tmp_path: Path
                                                          ) -> None:
    done = cloud.run("cloud", "start", cwd=tmp_path, timeout=60, ALOFT_LOG_MAX_MB="64")
    assert done.code == 0, done.text
    try:
        status = cloud.run("cloud", "status", cwd=tmp_path, timeout=20)
        assert status.code == 0, status.text
        section = status.text.split("logs", 1)[1]  # its own section, after the scalars
        assert re.search(r"size MB\s+[\d.]+", section), status.text
        assert re.search(r"cap MB\s+64\b", section), status.text
        assert re.search(r"dropped by cap\s+0\b", section), status.text
        assert re.search(r"last dropped\s+-", section), status.text
    finally:
        cloud.run("cloud", "stop", cwd=tmp_path, timeout=30)
