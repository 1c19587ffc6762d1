"""Building the artifact of a Flask hello app: aloft beside `zappa package`, in the same run.

Both build for AWS Lambda (CPython 3.11, manylinux x86_64) from a copy of examples/flask-hello.

- artifact size: aloft's code zip + dependency layer, Zappa's one zip.
- cold build: aloft with an empty build cache; Zappa from scratch. pip's own wheel cache may be
  warm for both (as on any developer machine after the first install).
- rebuild after a code-only change: the layer comes from aloft's cache; timed in process (what
  `aloft package` spends building) and as a fresh `python` process (interpreter start, imports,
  config loading and the build).

Zappa packages the virtualenv it runs in, so it runs from a venv holding only what the app needs
(flask, zappa), as its documentation asks: `.venv-bench-zappa`, made once with the benchmark
venv's interpreter.

    .venv/bin/python bench/package_build.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from _env import ROOT, bench_python  # noqa: E402

from aloft.config import load_service  # noqa: E402
from aloft.package import Manifest, build  # noqa: E402

EXAMPLE = ROOT / "examples" / "flask-hello"
ZAPPA_VENV = ROOT / ".venv-bench-zappa"
RESULTS = BENCH_DIR / "results" / "package_build.json"
MIB = 1024 * 1024

FALLBACK_APP = """from flask import Flask

app = Flask(__name__)


@app.get("/")
def index():
    return "Hello from aloft!"
"""
FALLBACK_CONFIG = """service: flask-hello
app: app:app
stages:
  dev:
    provider: local
  prod:
    provider: aws
"""
ZAPPA_SETTINGS = {"dev": {"app_function": "app.app", "s3_bucket": "x", "aws_region": "us-east-1"}}
FRESH_PROCESS_BUILD = """
import sys, time
from pathlib import Path
t = time.perf_counter()
from aloft.config import load_service
from aloft.package import build
build(load_service(Path(sys.argv[1]) / "aloft.yml", "prod"), cache_dir=Path(sys.argv[2]))
print(time.perf_counter() - t)
"""


def copy_app(dest: Path) -> Path:
    """The Flask hello app: examples/flask-hello if present, else the same written here."""
    dest.mkdir(parents=True)
    if (EXAMPLE / "app.py").is_file():
        for name in ("app.py", "requirements.txt", "aloft.yml"):
            shutil.copy2(EXAMPLE / name, dest / name)
    else:
        (dest / "app.py").write_text(FALLBACK_APP)
        (dest / "requirements.txt").write_text("flask\n")
        (dest / "aloft.yml").write_text(FALLBACK_CONFIG)
    return dest


def zappa_python() -> Path:
    python = ZAPPA_VENV / "bin" / "python"
    if not (ZAPPA_VENV / ".installed-stamp").exists():
        print("creating .venv-bench-zappa (flask + zappa) ...", flush=True)
        subprocess.run([str(bench_python()), "-m", "venv", str(ZAPPA_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "zappa", "flask"], check=True)
        (ZAPPA_VENV / ".installed-stamp").touch()
    return python


def zappa_package(project: Path) -> tuple[float, int]:
    """Seconds and bytes of `zappa package dev` for the app in `project`."""
    (project / "zappa_settings.json").write_text(json.dumps(ZAPPA_SETTINGS))
    python = zappa_python()
    env = {
        **os.environ,
        "VIRTUAL_ENV": str(ZAPPA_VENV),
        "PATH": f"{python.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    out = project / "zappa.zip"
    started = time.perf_counter()
    done = subprocess.run([str(python.parent / "zappa"), "package", "dev", "-o", str(out)],
                          cwd=project, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0 or not out.exists():
        sys.exit(f"zappa package failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return seconds, out.stat().st_size


def artifact_size(manifest: Manifest) -> int:
    return manifest.code.size + (manifest.layer.size if manifest.layer else 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="rebuilds to time (median)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="aloft-bench-package-") as tmp:
        work = Path(tmp)
        project = copy_app(work / "aloft-app")
        service = load_service(project / "aloft.yml", "prod")
        cache = work / "cache"

        started = time.perf_counter()
        cold = build(service, cache_dir=cache)
        cold_seconds = time.perf_counter() - started
        assert not cold.cached_layer

        in_process: list[float] = []
        fresh: list[float] = []
        app = project / "app.py"
        for i in range(args.rounds):
            app.write_text(app.read_text() + f"\n# edit {i}\n")
            started = time.perf_counter()
            again = build(service, cache_dir=cache)
            in_process.append(time.perf_counter() - started)
            assert again.cached_layer and again.layer == cold.layer
            app.write_text(app.read_text() + f"\n# edit {i}b\n")
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", FRESH_PROCESS_BUILD, str(project), str(cache)],
                           check=True, capture_output=True)
            fresh.append(time.perf_counter() - started)

        zappa_seconds, zappa_bytes = zappa_package(copy_app(work / "zappa-app"))

    size = artifact_size(cold)
    rebuild = statistics.median(in_process)
    rebuild_fresh = statistics.median(fresh)
    ratio = cold_seconds / zappa_seconds
    rows = [
        ("artifact size (zipped)", f"{size / MIB:.2f} MiB", f"{zappa_bytes / MIB:.1f} MiB",
         "≤ 1.5 MB", size <= 1.5e6),
        ("cold build", f"{cold_seconds:.2f} s", f"{zappa_seconds:.1f} s",
         f"≤ 0.3x zappa (is {ratio:.2f}x)", ratio <= 0.3),
        ("rebuild, code-only change", f"{rebuild * 1000:.0f} ms", "(full build again)",
         "≤ 0.5 s", rebuild <= 0.5),
        ("  same, fresh python process", f"{rebuild_fresh:.2f} s", "", "", None),
    ]
    print(f"\nPackaging examples/flask-hello for AWS Lambda ({cold.platform}, "
          f"CPython {cold.python_version}); rebuilds: median of {args.rounds}\n")
    header = ("", "aloft", "zappa package", "target", "")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(4)]
    for row in [header, *rows]:
        mark = {True: "ok", False: "MISSED", None: ""}[row[4]] if row is not header else ""
        print("  ".join(str(c).ljust(w) for c, w in zip(row[:4], widths, strict=True)), mark)
    print("\naloft artifact: code.zip "
          f"{cold.code.size / 1024:.0f} KiB + layer.zip "
          f"{(cold.layer.size if cold.layer else 0) / 1024:.0f} KiB; packages: "
          + ", ".join(f"{p.name} {p.bytes / 1024:.0f} KiB" for p in cold.packages))

    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({
        "aloft_bytes": size, "zappa_bytes": zappa_bytes,
        "aloft_cold_seconds": cold_seconds, "zappa_seconds": zappa_seconds,
        "rebuild_seconds": rebuild, "rebuild_fresh_process_seconds": rebuild_fresh,
    }, indent=2))


if __name__ == "__main__":
    main()
