"""`aloft cloud start` in a terminal with a daemon setting that is not a number: it says which,
and the fix, and no daemon is left running."""

from __future__ import annotations

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
