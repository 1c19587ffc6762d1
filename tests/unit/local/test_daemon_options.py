"""The daemon's settings from its environment: numbers parsed, a wrong one a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from aloft.errors import UsageError
from aloft.local.daemon import options_from_env
from aloft.local.store.logs import DEFAULT_MAX_BYTES


def test_unset_settings_take_their_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    for name in ("ALOFT_LOG_MAX_MB", "ALOFT_LOG_RETENTION_DAYS", "ALOFT_ASYNC_BACKOFF"):
        monkeypatch.delenv(name, raising=False)
    opts = options_from_env(tmp_path, 18750)
    assert opts.log_max_mb * (1 << 20) == DEFAULT_MAX_BYTES
    assert opts.log_retention_days == 7


def test_settings_are_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALOFT_LOG_MAX_MB", "64")
    monkeypatch.setenv("ALOFT_ASYNC_BACKOFF", "0")  # no wait before a retry: allowed
    monkeypatch.setenv("ALOFT_ACCOUNT_CONCURRENCY", " 3 ")
    opts = options_from_env(tmp_path, 18750)
    assert (opts.log_max_mb, opts.async_backoff, opts.account_concurrency) == (64, 0, 3)


@pytest.mark.parametrize(("name", "value"), [
    ("ALOFT_LOG_MAX_MB", "lots"), ("ALOFT_LOG_MAX_MB", "0"), ("ALOFT_LOG_RETENTION_DAYS", "-1"),
    ("ALOFT_ACCOUNT_CONCURRENCY", "2.5"), ("ALOFT_ASYNC_BACKOFF", "nan"),
])
def test_a_setting_that_is_not_a_number_says_which_and_how_to_fix_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(UsageError) as caught:
        options_from_env(tmp_path, 18750)
    text = str(caught.value)
    assert f"{name}={value!r}" in text and f"fix: unset {name} (default " in text
