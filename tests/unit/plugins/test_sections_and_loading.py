"""Plugins listed in aloft.yml: their config sections (validated with file:line errors) and what
happens when one cannot be imported."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from aloft.errors import ConfigError, PluginError
from aloft.plugins import load_service

SUMMARY_PLUGIN = """
from pydantic import BaseModel, ConfigDict
from aloft.plugins import hookimpl

class Summary(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str
    timeout: float = 5.0

@hookimpl
def aloft_config_sections():
    return {"summary": Summary}
"""


def test_a_plugin_section_is_validated_and_reaches_the_service(
    project: Callable[..., Path],
) -> None:
    root = project("""
        service: shop
        app: app:app
        plugins: [sect_ok_plugin]
        summary:
          url: http://127.0.0.1:9/deploys
          timeout: 2
    """, {"sect_ok_plugin.py": SUMMARY_PLUGIN})
    service, plugins = load_service(root, "dev")
    section = service.plugin_config["summary"]
    assert section.url == "http://127.0.0.1:9/deploys" and section.timeout == 2.0
    assert "sect_ok_plugin" in plugins.names and "aloft.keep_warm" in plugins.names


def test_a_bad_value_in_a_plugin_section_names_file_and_line(
    project: Callable[..., Path],
) -> None:
    root = project("""
        service: shop
        app: app:app
        plugins: [sect_bad_plugin]
        summary:
          url: http://127.0.0.1:9/deploys
          timeout: soon
    """, {"sect_bad_plugin.py": SUMMARY_PLUGIN})
    with pytest.raises(ConfigError) as err:
        load_service(root, "dev")
    text = str(err.value)
    assert f"{root / 'aloft.yml'}:6" in text
    assert "summary.timeout" in text and "`summary` section" in text


def test_unknown_and_missing_keys_in_a_section(project: Callable[..., Path]) -> None:
    root = project("""
        service: shop
        app: app:app
        plugins: [sect_keys_plugin]
        summary:
          timeout: 1
          urll: http://x
    """, {"sect_keys_plugin.py": SUMMARY_PLUGIN})
    with pytest.raises(ConfigError) as err:
        load_service(root, "dev")
    errors = getattr(err.value, "errors", [err.value])
    messages = " | ".join(str(e) for e in errors)
    assert "unknown key `urll`" in messages and "url" in messages
    assert "`url` is required in the `summary` section" in messages
    assert f"{root / 'aloft.yml'}:6" in messages  # the unknown key's line


def test_a_section_without_its_plugin_stays_an_unknown_key(project: Callable[..., Path]) -> None:
    root = project("""
        service: shop
        app: app:app
        summary:
          url: http://127.0.0.1:9/deploys
    """)
    with pytest.raises(ConfigError, match="unknown key `summary`"):
        load_service(root, "dev")


def test_an_unimportable_plugin_is_a_config_error_at_its_line(
    project: Callable[..., Path],
) -> None:
    root = project("""
        service: shop
        app: app:app
        plugins:
          - no_such_aloft_plugin.summary
    """)
    with pytest.raises(ConfigError) as err:
        load_service(root, "dev")
    assert f"{root / 'aloft.yml'}:4" in str(err.value)
    assert "'no_such_aloft_plugin.summary' cannot be imported" in err.value.message
    assert err.value.fix is not None
    assert "pip install" in err.value.fix and "no_such_aloft_plugin/summary.py" in err.value.fix


def test_a_plugin_whose_dependency_is_missing_says_which(project: Callable[..., Path]) -> None:
    root = project("""
        service: shop
        app: app:app
        plugins: [needs_dep_plugin]
    """, {"needs_dep_plugin.py": "import surely_not_installed_pkg\n"})
    with pytest.raises(ConfigError) as err:
        load_service(root, "dev")
    assert "surely_not_installed_pkg" in err.value.message
    assert err.value.fix == "pip install surely_not_installed_pkg"


def test_a_plugin_that_fails_on_import_is_reported(project: Callable[..., Path]) -> None:
    root = project("""
        service: shop
        app: app:app
        plugins: [broken_import_plugin]
    """, {"broken_import_plugin.py": "raise RuntimeError('half written')\n"})
    with pytest.raises(ConfigError, match="failed while importing: RuntimeError: half written"):
        load_service(root, "dev")


def test_a_section_named_like_an_aloft_key_is_refused(project: Callable[..., Path]) -> None:
    root = project("""
        service: shop
        app: app:app
        plugins: [clash_plugin]
    """, {"clash_plugin.py": """
        from pydantic import BaseModel
        from aloft.plugins import hookimpl

        class M(BaseModel):
            x: int = 1

        @hookimpl
        def aloft_config_sections():
            return {"memory": M}
    """})
    with pytest.raises(ConfigError, match="section 'memory', a key aloft itself uses"):
        load_service(root, "dev")


def test_a_hook_with_an_unknown_argument_is_refused(project: Callable[..., Path]) -> None:
    root = project("""
        service: shop
        app: app:app
        plugins: [bad_args_plugin]
    """, {"bad_args_plugin.py": """
        from aloft.plugins import hookimpl

        @hookimpl
        def aloft_before_step(step, context, colour):
            pass
    """})
    with pytest.raises(PluginError, match=r"bad_args_plugin.*not valid"):
        load_service(root, "dev")


def test_a_stage_overrides_a_plugin_section(project: Callable[..., Path]) -> None:
    root = project("""
        service: shop
        app: app:app
        plugins: [sect_stage_plugin]
        summary:
          url: http://127.0.0.1:9/dev
        stages:
          dev: {}
          prod:
            summary:
              url: http://127.0.0.1:9/prod
    """, {"sect_stage_plugin.py": SUMMARY_PLUGIN})
    assert load_service(root, "dev")[0].plugin_config["summary"].url.endswith("/dev")
    assert load_service(root, "prod")[0].plugin_config["summary"].url.endswith("/prod")


def test_an_installed_plugin_is_found_by_its_entry_point_name(
    project: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A real installed distribution: a .dist-info with entry_points.txt on sys.path.
    site = tmp_path / "site"
    (site / "aloft_demo_ep").mkdir(parents=True)
    (site / "aloft_demo_ep" / "__init__.py").write_text(SUMMARY_PLUGIN)
    dist = site / "aloft_demo_ep-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: aloft-demo-ep\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[aloft.plugins]\ndemo-summary = aloft_demo_ep\n")
    monkeypatch.syspath_prepend(str(site))
    root = project("""
        service: shop
        app: app:app
        plugins: [demo-summary]
        summary: {url: http://127.0.0.1:9/x}
    """)
    service, plugins = load_service(root, "dev")
    assert "demo-summary" in plugins.names
    assert service.plugin_config["summary"].url == "http://127.0.0.1:9/x"
