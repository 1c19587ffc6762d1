"""A project kept outside the home (/srv/shop; here in /var/tmp, since /tmp is an instance's
own anyway), deployed and invoked as a person does it, with the real `aloft` in a terminal: the
deploy warns of an environment value naming a file in the project; the function reads its own
code but not the project's `.env` nor its sources; `aloft cloud status` says projects are
hidden."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from aloft.local.instances import isolation
from tests.isolation_required import no_isolation
from tests.pty.conftest import Cloud

pytestmark = pytest.mark.timeout(240)

CODE = """\
import errno


def look(event, context):
    out = {}
    for path in event["read"]:
        try:
            with open(path) as fh:
                out[path] = "read: " + fh.read(20)
        except OSError as exc:
            out[path] = errno.errorcode.get(exc.errno, str(exc.errno))
    return out
"""


@pytest.fixture
def project() -> Iterator[Path]:
    mode, described = isolation.probe()
    if mode == "none":  # pragma: no cover - a machine without isolation
        no_isolation(described)
    srv = Path(tempfile.mkdtemp(prefix="aloft-srv-", dir="/var/tmp"))
    shop = srv / "shop"
    shop.mkdir()
    (shop / "aloft.yml").write_text(
        "service: shop\nfunctions:\n  look:\n    handler: fns.look\n    environment:\n"
        f"      PRICES: {shop / 'prices.csv'}\n")
    (shop / "fns.py").write_text(CODE)
    (shop / "prices.csv").write_text("apple,1\n")
    (shop / ".env").write_text("STRIPE_KEY=sk_live_secret\n")
    try:
        yield shop
    finally:
        shutil.rmtree(srv, ignore_errors=True)


def test_a_deployed_function_cannot_read_its_project(cloud: Cloud, project: Path) -> None:
    done = cloud.run("deploy", "dev", cwd=project, timeout=180)
    assert done.code == 0, done.text
    said = " ".join(done.text.split())  # (rich wraps at the terminal's width)
    assert f"environment PRICES names {project / 'prices.csv'}, which functions in the local " \
           "cloud cannot see" in said, done.text
    event = {"read": [str(project / ".env"), str(project / "fns.py"), "fns.py"]}
    done = cloud.run("invoke", "dev", "look", "--data", json.dumps(event), cwd=project,
                     timeout=60)
    assert done.code == 0, done.text
    seen = json.loads(done.text[done.text.index("{"):done.text.rindex("}") + 1])
    assert seen[str(project / ".env")] in {"ENOENT", "EACCES"}, seen
    assert seen[str(project / "fns.py")] in {"ENOENT", "EACCES"}, seen
    assert seen["fns.py"].startswith("read: import errno"), seen  # its own code: the build's
    done = cloud.run("cloud", "status", cwd=project, timeout=20)
    assert re.search(r"the\s+home\s+directory,\s+the\s+projects\s+deployed", done.text), \
        done.text
