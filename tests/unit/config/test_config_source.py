"""Marked YAML loading: positions of keys and values, duplicate keys, YAML/JSON/TOML errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from aloft.config.source import Mark, format_path, load_document, parse_yaml
from aloft.errors import ConfigError

TEXT = """\
service: shop
functions:
  jobs:
    events:
      - schedule: rate(5 minutes)
      - queue: {name: jobs, batch_size: 5}
"""


def test_every_key_and_value_has_its_line_and_column() -> None:
    doc = parse_yaml(TEXT, Path("aloft.yml"))
    assert doc.spots[("service",)].key == Mark(1, 1)
    assert doc.spots[("service",)].value == Mark(1, 10)
    event = doc.spots[("functions", "jobs", "events", 0)]
    assert event.key is None and event.value == Mark(5, 9)
    assert doc.spots[("functions", "jobs", "events", 0, "schedule")].value == Mark(5, 19)
    assert doc.spots[("functions", "jobs", "events", 1, "queue", "batch_size")].key == Mark(6, 29)
    assert doc.data["functions"]["jobs"]["events"][1] == {"queue": {"name": "jobs",
                                                                     "batch_size": 5}}


def test_key_paths_read_like_the_file() -> None:
    assert format_path(("functions", "jobs", "events", 0, "schedule", "rate")) == \
        "functions.jobs.events[0].schedule.rate"
    assert format_path(()) == ""


def test_duplicate_key_is_an_error_with_both_lines() -> None:
    with pytest.raises(ConfigError) as info:
        parse_yaml("service: a\nmemory: 1\nmemory: 2\n", Path("aloft.yml"))
    err = info.value
    assert err.where is not None and (err.where.line, err.where.column) == (3, 1)
    assert err.where.key_path == "memory"
    assert "duplicate key 'memory' (first written at line 2)" in err.message


def test_merge_keys_are_not_duplicates_and_own_keys_win() -> None:
    doc = parse_yaml(
        "base: &b {memory: 1, timeout: 2}\nprod:\n  <<: *b\n  memory: 3\n", Path("x.yml")
    )
    assert doc.data["prod"] == {"memory": 3, "timeout": 2}


def test_invalid_yaml_reports_line_and_column() -> None:
    with pytest.raises(ConfigError) as info:
        parse_yaml("service: a\nfunctions:\n  jobs: [a, b\n", Path("aloft.yml"))
    assert info.value.where is not None and info.value.where.line == 4
    assert "invalid YAML" in str(info.value)


def test_cloudformation_short_tags_become_long_form() -> None:
    doc = parse_yaml(
        "a: !Ref Queue\nb: !GetAtt Queue.Arn\nc: !Sub 'x-${AWS::Region}'\nd: !Join [',', [x, y]]\n",
        Path("serverless.yml"),
    )
    assert doc.data == {
        "a": {"Ref": "Queue"},
        "b": {"Fn::GetAtt": ["Queue", "Arn"]},
        "c": {"Fn::Sub": "x-${AWS::Region}"},
        "d": {"Fn::Join": [",", ["x", "y"]]},
    }


def test_json_with_tabs_falls_back_to_json(tmp_path: Path) -> None:
    path = tmp_path / "zappa_settings.json"
    path.write_text('{\n\t"dev": {\n\t\t"app_function": "app.app"\n\t}\n}\n')
    assert load_document(path).data == {"dev": {"app_function": "app.app"}}


def test_invalid_json_reports_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "zappa_settings.json"
    path.write_text('{\n\t"dev": {\n\t\t"app_function": "app.app",\n\t}\n}\n')
    with pytest.raises(ConfigError) as info:
        load_document(path)
    assert info.value.where is not None and info.value.where.line == 4
    assert "invalid JSON" in info.value.message


def test_invalid_toml_reports_line(tmp_path: Path) -> None:
    path = tmp_path / "zappa_settings.toml"
    path.write_text('[dev]\napp_function = "app.app"\nmemory_size = \n')
    with pytest.raises(ConfigError) as info:
        load_document(path)
    assert info.value.where is not None and info.value.where.line == 3


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_document(tmp_path / "aloft.yml")
    assert "does not exist" in info.value.message
    assert info.value.fix is not None and "aloft init" in info.value.fix
