"""Stages: deep merge, lists replaced, extends chains, cycles, unknown stages."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from aloft.config import load_project
from aloft.errors import ConfigError

BASE = """\
service: api
app: app:app
memory: 256
aws:
  region: us-east-1
  tags: {team: a}
exclude: [a, b]
"""


def test_chain_of_extends_applies_root_first(write: Callable[..., Path]) -> None:
    path = write(BASE + """\
stages:
  a:
    memory: 512
    aws: {tags: {tier: a}}
  b:
    extends: a
    timeout: 10
    exclude: [c]
  c:
    extends: b
    memory: 1024
""")
    c = load_project(path, env={}).service("c")
    assert (c.memory, c.timeout) == (1024, 10)
    assert c.aws.region == "us-east-1" and c.aws.tags == {"team": "a", "tier": "a"}
    assert c.exclude == ["c"]


def test_cycle_is_reported_with_its_path(write: Callable[..., Path]) -> None:
    stages = "stages:\n  a:\n    extends: b\n  b:\n    extends: c\n  c:\n    extends: a\n"
    path = write(BASE + stages)
    with pytest.raises(ConfigError) as info:
        load_project(path, env={}).service("a")
    assert "a -> b -> c -> a" in info.value.message
    assert info.value.where is not None and info.value.where.line == 14
    assert info.value.where.key_path == "stages.c.extends"


def test_self_extension_is_a_cycle(write: Callable[..., Path]) -> None:
    path = write(BASE + "stages:\n  a:\n    extends: a\n")
    with pytest.raises(ConfigError, match="a -> a"):
        load_project(path, env={}).service("a")


def test_extending_an_unknown_stage_suggests(write: Callable[..., Path]) -> None:
    path = write(BASE + "stages:\n  staging:\n  prod:\n    extends: stagin\n")
    with pytest.raises(ConfigError) as info:
        load_project(path, env={}).service("prod")
    assert "'stagin', which is not a stage" in info.value.message
    assert info.value.fix is not None and "did you mean `staging`?" in info.value.fix
    assert info.value.where is not None and (info.value.where.line, info.value.where.column) == (
        11, 14)


def test_unknown_stage_lists_the_stages(write: Callable[..., Path]) -> None:
    path = write(BASE + "stages:\n  dev:\n  prod:\n")
    with pytest.raises(ConfigError) as info:
        load_project(path, env={}).service("prd")
    assert "stage 'prd' is not defined; stages: dev, prod" in info.value.message
    assert info.value.fix is not None and "did you mean `prod`?" in info.value.fix


def test_stage_must_be_a_mapping(write: Callable[..., Path]) -> None:
    path = write(BASE + "stages:\n  dev: 3\n")
    with pytest.raises(ConfigError, match="stage 'dev' must be a mapping"):
        load_project(path, env={})


def test_invalid_stage_name(write: Callable[..., Path]) -> None:
    with pytest.raises(ConfigError, match="not valid"):
        load_project(write(BASE), env={}).service("no spaces")
