"""The benchmarks' own environment: `.venv-bench` with the alternatives (Zappa, apig-wsgi,
gunicorn) installed beside aloft, so that every figure is measured side by side in one run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_VENV = ROOT / ".venv-bench"
REQUIREMENTS = Path(__file__).resolve().parent / "requirements.txt"


def bench_python() -> Path:
    """Path to the benchmark venv's python, creating and filling the venv when needed."""
    python = BENCH_VENV / "bin" / "python"
    stamp = BENCH_VENV / ".installed-stamp"
    if stamp.exists() and stamp.stat().st_mtime >= REQUIREMENTS.stat().st_mtime:
        return python
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-r", str(REQUIREMENTS), "-e", str(ROOT)], check=True)
    stamp.touch()
    return python
