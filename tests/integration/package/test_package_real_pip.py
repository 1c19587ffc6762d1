"""Real pip installs (from the package index) into real artifacts, for the host and for Lambda.

The artifacts are then run the way a function runs them: in a fresh interpreter that sees only
the unpacked code and layer (`-I -S`: no site-packages), through aloft's runtime entry point.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from aloft.config.models import Service
from aloft.errors import PackageError
from aloft.package import Manifest, Target, build, unpack

pytestmark = pytest.mark.timeout(600)

AWS_X86 = Target("aws", "3.11", "manylinux2014_x86_64")
AWS_ARM = Target("aws", "3.11", "manylinux2014_aarch64")

FLASK_APP = """
from flask import Flask
app = Flask(__name__)

@app.get("/hello/<name>")
def hello(name):
    return {"hello": name}
"""

RUN = """
import json, sys
sys.path[:0] = json.loads(sys.argv[1])
from aloft.runtime.context import LambdaContext
from aloft.runtime.handler import handler
event = json.loads(sys.argv[2])
print(json.dumps(handler(event, LambdaContext(function_name="x-dev-app"))))
"""


def project(tmp_path: Path, requirements: str, app: str = FLASK_APP) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "app.py").write_text(app)
    (root / "requirements.txt").write_text(requirements)
    return root


def service(root: Path, **extra: object) -> Service:
    return Service(service="x", stage="dev", root=root, app="app:app", **extra)  # type: ignore[arg-type]


def http_event(path: str) -> dict[str, object]:
    return {
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
        "headers": {"host": "example.com"},
        "requestContext": {
            "http": {"method": "GET", "path": path, "protocol": "HTTP/1.1", "sourceIp": "1.2.3.4",
                     "userAgent": "test"},
            "requestId": "r1", "routeKey": "$default", "stage": "$default",
            "domainName": "example.com", "accountId": "1", "apiId": "a", "timeEpoch": 0,
            "time": "01/Jan/2024:00:00:00 +0000",
        },
        "isBase64Encoded": False,
    }


def invoke(paths: list[Path], event: dict[str, object], tmp_path: Path) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", RUN, json.dumps([str(p) for p in paths]),
         json.dumps(event)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
        env={"ALOFT_DEPS_DIR": str(tmp_path / "deps"), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_local_target_builds_an_artifact_that_serves(tmp_path: Path) -> None:
    root = project(tmp_path, "flask\n")
    manifest = build(service(root), cache_dir=tmp_path / "cache")
    assert manifest.provider == "local" and manifest.layer is not None
    assert {"Flask", "Werkzeug", "Jinja2"} <= {p.name for p in manifest.packages}
    code = unpack(manifest.code.path, tmp_path / "trees", sha256=manifest.code.sha256)
    layer = unpack(manifest.layer.path, tmp_path / "trees", sha256=manifest.layer.sha256)
    response = invoke([code, layer / "python"], http_event("/hello/pkg"), tmp_path)
    assert response["statusCode"] == 200
    assert json.loads(str(response["body"])) == {"hello": "pkg"}


def test_slim_artifact_serves_from_the_code_zip_alone(tmp_path: Path) -> None:
    root = project(tmp_path, "flask\n")
    manifest = build(service(root, slim=True), cache_dir=tmp_path / "cache")
    assert manifest.layer is None
    code = unpack(manifest.code.path, tmp_path / "trees")
    response = invoke([code], http_event("/hello/slim"), tmp_path)
    assert json.loads(str(response["body"])) == {"hello": "slim"}


def test_pure_python_package_for_manylinux(tmp_path: Path) -> None:
    root = project(tmp_path, "six==1.17.0\n", app="app = None\n")
    manifest = build(service(root), target=AWS_X86, cache_dir=tmp_path / "cache")
    assert manifest.layer is not None and manifest.platform == "manylinux2014_x86_64"
    assert [p.name for p in manifest.packages] == ["six"]
    with zipfile.ZipFile(manifest.layer.path) as zf:
        names = zf.namelist()
    assert "python/six.py" in names and "python/six-1.17.0.dist-info/METADATA" in names
    # A second build of the same requirements reuses the layer.
    again = build(service(root), target=AWS_X86, cache_dir=tmp_path / "cache")
    assert again.cached_layer and again.layer == manifest.layer
    assert Manifest.read(root / ".aloft" / "build" / "dev" / "manifest.json") == again


@pytest.mark.parametrize(("target", "arch"), [(AWS_X86, "x86_64"), (AWS_ARM, "aarch64")])
def test_binary_wheels_are_chosen_for_the_lambda_platform(
    tmp_path: Path, target: Target, arch: str
) -> None:
    root = project(tmp_path, "markupsafe==3.0.3\nboto3\n", app="app = None\n")
    manifest = build(service(root), target=target, cache_dir=tmp_path / "cache")
    assert manifest.layer is not None
    with zipfile.ZipFile(manifest.layer.path) as zf:
        names = zf.namelist()
    native = [n for n in names if n.endswith(".so")]
    assert native and all(f"cpython-311-{arch}-linux-gnu" in n for n in native)
    # boto3 and its AWS-provided dependencies are left to the Lambda runtime.
    assert not any(n.startswith(("python/boto3", "python/botocore")) for n in names)
    assert {p.name.lower() for p in manifest.packages} >= {"markupsafe"}


def test_a_package_without_wheels_fails_with_its_name(tmp_path: Path) -> None:
    root = project(tmp_path, "six\npsycopg2==2.9.9\n", app="app = None\n")
    with pytest.raises(PackageError) as err:
        build(service(root), target=AWS_X86, cache_dir=tmp_path / "cache")
    assert err.value.message.startswith("psycopg2==2.9.9 has no wheel for aws")
    assert err.value.where is not None and err.value.where.line == 2
    assert err.value.fix is not None and "psycopg2-binary" in err.value.fix
