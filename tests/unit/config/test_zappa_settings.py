"""Every documented Zappa setting is read: mapped to aloft, or named with what to do instead."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from aloft.config import load_project
from aloft.config.zappa import _SECONDARY, _SETTINGS, ADVICE, ZAPPA_SETTINGS

Write = Callable[..., Path]


def test_every_documented_setting_is_mapped_or_advised() -> None:
    unknown = [k for k in ZAPPA_SETTINGS
               if k not in _SETTINGS and k not in ADVICE and k not in _SECONDARY
               and k != "extends"]
    assert unknown == []
    assert all(len(why) > 20 for why in ADVICE.values())  # says what to do, not just "no"


def test_settings_with_new_mappings(write: Write) -> None:
    settings = {
        "dev": {
            "app_function": "app.app",
            "cors": {"allowed_origin": "https://shop.test", "allowed_headers": ["X-Token"],
                     "allowed_methods": ["GET", "POST"]},
            "lambda_concurrency": 10,
            "dead_letter_arn": "arn:aws:sqs:us-east-1:123456789012:failed",
            "touch_path": "/health",
            "touch": False,
            "async_source": "sns",
            "remote_env": "s3://config/dev.json",
            "prebuild_script": "build.run",
            "keep_warm": False,
            "snap_start": "PublishedVersions",
            "runtime": "python3.12",
            "some_misspelled_key": 1,
        }
    }
    path = write(json.dumps(settings), "zappa_settings.json")
    project = load_project(path, env={})
    svc = project.service()
    assert svc.cors.origins == ["https://shop.test"] and svc.cors.headers == ["X-Token"]
    assert svc.cors.methods == ["GET", "POST"]
    assert svc.concurrency == 10 and svc.health_path == "/health"
    assert svc.function("app").dead_letter == "arn:aws:sqs:us-east-1:123456789012:failed"
    # SnapStart: on aws as Zappa set it, and the local cloud's templates
    assert svc.function("app").snap_start is True and svc.function("app").snapshot is True
    text = "\n".join(project.warnings)
    for key, words in (("touch", "health-checks"), ("async_source", "zappa.asynchronous"),
                       ("remote_env", "${ssm:/path}"), ("prebuild_script", "plugin"),
                       ("some_misspelled_key", "not a Zappa setting aloft knows")):
        assert any(key in w and words in w for w in project.warnings), (key, text)
    assert "dead_letter" not in text  # applied on both providers


def test_defaults_that_are_what_aloft_does_are_quiet(write: Write) -> None:
    settings = {"dev": {"app_function": "app.app", "touch": True, "async_source": "lambda",
                        "cloudwatch_log_level": "OFF", "use_precompiled_packages": True,
                        "delete_local_zip": True, "manage_roles": True}}
    path = write(json.dumps(settings), "zappa_settings.json")
    assert load_project(path, env={}).warnings == []


def test_the_migration_guide_names_every_zappa_setting() -> None:
    text = (Path(__file__).resolve().parents[3] / "docs" / "migrating.md").read_text()
    missing = [k for k in ZAPPA_SETTINGS if f"`{k}" not in text]
    assert missing == []
