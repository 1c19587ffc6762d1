"""Validation errors name file:line:column, the key path, the stage, what is wrong and the fix."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from aloft.config import load_project, load_service
from aloft.errors import ConfigError, ConfigErrors

Write = Callable[..., Path]

CONFIG = """\
service: shop
app: shop.app:app
memory: 512
functions:
  jobs:
    handler: shop.jobs.run
    events:
      - schedule:
          rate: 5 minutes
      - queue: {name: jobs, batch_size: 5}
stages:
  dev:
  prod:
    memory: 1024
"""


def error_for(write: Write, text: str, stage: str = "dev") -> ConfigError:
    path = write(text)
    with pytest.raises(ConfigError) as info:
        load_project(path, env={}).service(stage)
    return info.value


def test_valid_base_config_loads(write: Write) -> None:
    assert load_service(write(CONFIG), "prod", env={}).memory == 1024


def test_unknown_key_suggests_the_closest(write: Write) -> None:
    err = error_for(write, CONFIG.replace("memory: 512", "memroy: 512"))
    assert err.message == "unknown key `memroy`"
    assert err.fix == "did you mean `memory`?"
    assert err.where is not None
    assert (err.where.line, err.where.column, err.where.key_path) == (3, 1, "memroy")
    text = str(err)
    assert text.endswith(":3:1, at memroy, stage 'dev': unknown key `memroy`\n"
                         "  fix: did you mean `memory`?")


def test_unknown_nested_key_in_an_event(write: Write) -> None:
    err = error_for(write, CONFIG.replace("batch_size: 5", "batch_sise: 5"))
    assert err.fix == "did you mean `batch_size`?"
    assert err.where is not None
    assert (err.where.line, err.where.column) == (10, 29)
    assert err.where.key_path == "functions.jobs.events[1].queue.batch_sise"
    assert err.where.function == "jobs"


def test_unknown_key_in_a_stage_points_at_the_stage(write: Write) -> None:
    err = error_for(write, CONFIG.replace("    memory: 1024", "    timout: 10"), stage="prod")
    assert err.fix == "did you mean `timeout`?"
    assert err.where is not None
    assert (err.where.line, err.where.column, err.where.key_path, err.where.stage) == (
        14, 5, "stages.prod.timout", "prod")


def test_unknown_key_without_a_close_match_lists_keys(write: Write) -> None:
    err = error_for(write, CONFIG.replace("batch_size: 5", "zzz: 5"))
    assert err.fix is not None and err.fix.startswith("remove it; keys allowed here: name, ")


def test_wrong_type(write: Write) -> None:
    err = error_for(write, CONFIG.replace("memory: 512", "memory: lots"))
    assert err.where is not None
    assert (err.where.line, err.where.column, err.where.key_path) == (3, 9, "memory")
    assert "valid integer" in err.message and "(got 'lots')" in err.message
    assert err.fix == "write a whole number"


def test_wrong_type_in_a_stage_override(write: Write) -> None:
    err = error_for(write, CONFIG.replace("memory: 1024", "memory: [1]"), stage="prod")
    assert err.where is not None
    assert (err.where.line, err.where.column, err.where.key_path) == (14, 13,
                                                                      "stages.prod.memory")


def test_bad_schedule(write: Write) -> None:
    err = error_for(write, CONFIG.replace("rate: 5 minutes", "rate: 5 mins"))
    assert err.where is not None
    assert (err.where.line, err.where.column) == (9, 17)
    assert err.where.key_path == "functions.jobs.events[0].schedule.rate"
    assert "rate '5 mins' must look like '5 minutes'" in err.message
    assert err.fix is not None and "minute(s), hour(s) or day(s)" in err.fix


def test_a_cron_under_rate_is_the_schedules_cron(write: Write) -> None:
    """The Serverless Framework's `rate:` takes cron(...) as well as rate(...); aloft.yml read
    `rate: rate(5 minutes)` but refused `rate: cron(...)` with a fix to write `rate: 5 minutes`,
    which is no fix for a cron."""
    path = write(CONFIG.replace("rate: 5 minutes", 'rate: "cron(0/5 * * * ? *)"'))
    service = load_project(path, env={}).service("dev")
    schedule = service.functions["jobs"].events[0].schedule
    assert schedule is not None
    assert (schedule.expression, schedule.rate) == ("cron(0/5 * * * ? *)", None)
    err = error_for(write, CONFIG.replace("rate: 5 minutes", 'rate: "cron(0 12 * *)"'))
    assert "has 4 fields; AWS cron has 6" in err.message


def test_bad_schedule_shorthand(write: Write) -> None:
    text = CONFIG.replace("      - schedule:\n          rate: 5 minutes\n",
                          "      - schedule: every 5 minutes\n")
    err = error_for(write, text)
    assert err.where is not None and (err.where.line, err.where.column) == (8, 19)
    assert err.where.key_path == "functions.jobs.events[0].schedule"
    assert "neither rate(...) nor cron(...)" in err.message


def test_bad_cron(write: Write) -> None:
    err = error_for(write, CONFIG.replace("rate: 5 minutes", "cron: 0 12 * *"))
    assert "has 4 fields; AWS cron has 6" in err.message
    assert err.where is not None and err.where.key_path == "functions.jobs.events[0].schedule.cron"


def test_bad_handler(write: Write) -> None:
    err = error_for(write, CONFIG.replace("handler: shop.jobs.run", "handler: run"))
    assert err.where is not None
    assert (err.where.line, err.where.column, err.where.key_path) == (
        6, 14, "functions.jobs.handler")
    assert "handler 'run' must be `module.function`" in err.message
    assert err.fix is not None and "`jobs.handle`" in err.fix


def test_missing_handler(write: Write) -> None:
    err = error_for(write, CONFIG.replace("    handler: shop.jobs.run\n", ""))
    assert "function 'jobs' needs a `handler`" in err.message
    assert err.where is not None and (err.where.line, err.where.column) == (5, 3)


def test_bad_app_reference(write: Write) -> None:
    err = error_for(write, CONFIG.replace("app: shop.app:app", "app: shop"))
    assert err.where is not None and (err.where.line, err.where.key_path) == (2, "app")
    assert err.fix is not None and "module:attribute" in err.fix


def test_literal_choice(write: Write) -> None:
    err = error_for(write, CONFIG + "    provider: azure\n", stage="prod")
    assert err.where is not None and err.where.key_path == "stages.prod.provider"
    assert err.fix == "use 'local' or 'aws'"


def test_union_errors_are_one_problem(write: Write) -> None:
    queues = "resources:\n  queues:\n    jobs:\n      dead_letter: [x]\n"
    text = CONFIG.replace("stages:", queues + "stages:")
    err = error_for(write, text)
    assert not isinstance(err, ConfigErrors)
    assert err.where is not None and err.where.key_path == "resources.queues.jobs.dead_letter"
    assert " or " in err.message


def test_several_problems_are_reported_together(write: Write) -> None:
    text = CONFIG.replace("memory: 512", "memory: 64").replace("batch_size: 5", "batch_size: 0")
    err = error_for(write, text)
    assert isinstance(err, ConfigErrors) and len(err.errors) == 2
    lines = str(err).splitlines()
    assert any(":3:9, at memory" in line for line in lines)
    assert any(":10:41, at functions.jobs.events[1].queue.batch_size" in line for line in lines)


def test_missing_required_key(write: Write) -> None:
    err = error_for(write, CONFIG.replace("service: shop\n", ""))
    assert err.message == "`service` is required here"


def test_a_value_from_a_variable_is_not_shown(write: Write) -> None:
    err = error_for(write, CONFIG.replace("memory: 512", "memory: ${env:SECRET, hunter2}"))
    assert err.where is not None and err.where.key_path == "memory"
    assert "hunter2" not in str(err)


def test_release_commands_are_checked_where_written(write: Write) -> None:
    err = error_for(write, CONFIG + "release: ['shop.tasks']\n".replace("shop.tasks", "migrate"))
    assert "must start with `manage`" in err.message
    assert err.where is not None and err.where.key_path.startswith("release")
    err = error_for(write, CONFIG + "release: [manage]\n")
    assert "is empty" in err.message
    err = error_for(write, CONFIG + "release: ['manage migrate']\n")
    assert "`release: manage ...` runs a Django management command" in err.message
    fine = load_service(write(CONFIG + "release: ['shop.release.run --fast']\n"), "dev", env={})
    assert fine.release == ["shop.release.run --fast"]
