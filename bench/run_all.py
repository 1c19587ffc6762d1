"""Run every benchmark in bench/ in turn: each `bench/*.py` except helpers (names starting `_`).

    .venv/bin/python bench/run_all.py [name-substring ...]

Each script runs in its own process with this interpreter (scripts that need the benchmark venv
re-exec into it themselves); one failing does not stop the others. Exit status 1 if any failed.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent


def discover(filters: list[str]) -> list[Path]:
    scripts = [
        p for p in sorted(BENCH_DIR.glob("*.py"))
        if not p.name.startswith("_") and p.name != Path(__file__).name
    ]
    if filters:
        scripts = [p for p in scripts if any(f in p.stem for f in filters)]
    return scripts


def main() -> int:
    scripts = discover(sys.argv[1:])
    if not scripts:
        print("no benchmark matches", " ".join(sys.argv[1:]))
        return 1
    results: list[tuple[str, int, float]] = []
    for script in scripts:
        print(f"\n=== {script.name} ===", flush=True)
        started = time.perf_counter()
        code = subprocess.run([sys.executable, str(script)], cwd=BENCH_DIR.parent).returncode
        results.append((script.name, code, time.perf_counter() - started))
    print("\n=== summary ===")
    for name, code, seconds in results:
        print(f"{name:32} {'ok' if code == 0 else f'FAILED ({code})':12} {seconds:7.1f} s")
    return 0 if all(code == 0 for _, code, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
