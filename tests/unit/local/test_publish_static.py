"""`aloft manage STAGE collectstatic` on the local cloud: nothing to upload (the gateway serves
the stage's static directory as it is), but what it says is checked against what the deployed
stage serves."""

from __future__ import annotations

from pathlib import Path

import pytest

from aloft.config import load_project
from aloft.errors import DeployError
from aloft.local.provider import LocalProvider
from aloft.provider import StageStatus


def test_published_only_where_the_stage_serves_the_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "aloft.yml").write_text(
        "service: site\napp: app:app\nstatic: {path: /assets, directory: public}\n"
        "stages:\n  dev: {}\n")
    service = load_project(tmp_path).service("dev")
    provider = LocalProvider(tmp_path / "home", port=1)
    served: dict[str, str] | None = None
    monkeypatch.setattr(provider, "status", lambda _s: StageStatus(
        url="http://127.0.0.1:1/site/dev/", version=3,
        report={"url": "http://127.0.0.1:1/site/dev/", "static": served}))
    with pytest.raises(DeployError, match="the deployed version does not serve public/ at "
                       "/assets/ yet") as refused:
        provider.publish_static(service)  # deployed before it had static files
    assert refused.value.fix is not None and "aloft deploy dev" in refused.value.fix
    served = {"path": "/assets", "directory": str((tmp_path / "public").resolve())}
    published = provider.publish_static(service)
    assert published.url == "http://127.0.0.1:1/site/dev/assets/"
    assert published.where == "the local gateway, from public/"
    assert (published.uploaded, published.deleted) == (0, 0)
