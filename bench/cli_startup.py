"""Startup of the `aloft` command: wall time of a few commands in examples/flask-hello, beside
a bare interpreter and beside the imports a naive click + rich + pydantic CLI would pay.

- `python -c pass`: the floor;
- `import pydantic, yaml, click, rich`: what a CLI that imports its stack eagerly starts at;
- `aloft --help`, `aloft validate`, `aloft schema`, `aloft status dev` (against a local cloud
  the benchmark starts in a temporary ALOFT_HOME on a free port, where the stage is not
  deployed: it fails fast with "not deployed", which is the point: how soon a command gets to
  work; a control API call would start a cloud that is not running).

Each command is run as a new process, the commands interleaved round by round so that a noisy
neighbour hits them alike; the median and the minimum are printed. `--against REV` also runs
the same commands from git revision REV's source tree (same run, same load) for a before/after;
without it, the figures measured before commands were loaded lazily are printed beside.

    .venv/bin/python bench/cli_startup.py [--runs 20] [--against 5d75d39]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ROOT / "examples" / "flask-hello"
RESULTS = Path(__file__).resolve().parent / "results" / "cli_startup.json"
LAUNCH = "from aloft.cli.main import main; main()"  # what the `aloft` console script runs

CASES: dict[str, list[str]] = {
    "python -c pass": ["-c", "pass"],
    "import pydantic, yaml, click, rich": ["-c", "import pydantic, yaml, click, rich"],
    "aloft --help": ["-c", LAUNCH, "--help"],
    "aloft validate": ["-c", LAUNCH, "validate"],
    "aloft schema": ["-c", LAUNCH, "schema"],
    "aloft status dev": ["-c", LAUNCH, "status", "dev"],
}
ALOFT_CASES = [name for name in CASES if name.startswith("aloft")]

PRE_CHANGE_MS = {
    "aloft --help": 356.0,
    "aloft validate": 355.0,
    "aloft schema": 351.0,
    "aloft status dev": 368.0,
}
"""Medians (ms) at 5d75d39, before lazy commands, from `--against 5d75d39` on the 2-core
development machine (load about 1-2); the same run measured `python -c pass` at 13 ms and
`import pydantic, yaml, click, rich` at 83 ms."""


CLOUD_ENV: dict[str, str] = {}  # ALOFT_HOME and ALOFT_PORT of the benchmark's own cloud


def run_once(args: list[str], src: Path) -> float:
    env = {**os.environ, **CLOUD_ENV, "PYTHONPATH": str(src), "NO_COLOR": "1"}
    started = time.perf_counter()
    subprocess.run([sys.executable, *args], cwd=PROJECT, env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False)
    return (time.perf_counter() - started) * 1000


def source_tree(rev: str, into: Path) -> Path:
    """The `src/` of git revision `rev`, unpacked under `into`."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "src"],
                             capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def measure(trees: dict[str, Path], runs: int) -> dict[str, dict[str, list[float]]]:
    """{tree: {case: [ms, ...]}}: round-robin over cases and trees, one warm-up round."""
    times: dict[str, dict[str, list[float]]] = {t: {c: [] for c in CASES} for t in trees}
    for round_ in range(runs + 1):
        for name, args in CASES.items():
            for tree, src in trees.items():
                if tree != "now" and name not in ALOFT_CASES:
                    continue  # the floors do not depend on aloft's source
                took = run_once(args, src)
                if round_:
                    times[tree][name].append(took)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--against", metavar="REV", help="also run the CLI of git revision REV")
    options = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from aloft.local.control.client import CloudClient

    with tempfile.TemporaryDirectory() as tmp:
        trees = {"now": ROOT / "src"}
        if options.against:
            trees[options.against] = source_tree(options.against, Path(tmp))
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        cloud = CloudClient(Path(tmp) / "home", port)
        cloud.ensure_running()
        CLOUD_ENV.update(ALOFT_HOME=str(Path(tmp) / "home"), ALOFT_PORT=str(port))
        try:
            times = measure(trees, options.runs)
        finally:
            cloud.stop()
    median = {t: {c: statistics.median(v) for c, v in cases.items() if v}
              for t, cases in times.items()}
    floor = median["now"]["python -c pass"]
    before = median.get(options.against or "", PRE_CHANGE_MS)
    label = options.against or "before"
    print(f"{'command':36} {'median':>8} {'min':>8} {'- floor':>8} {label:>9}  (ms, "
          f"{options.runs} runs, in {PROJECT.relative_to(ROOT)})")
    for name in CASES:
        values = times["now"][name]
        then = f"{before[name]:9.0f}" if name in before else ""
        print(f"{name:36} {median['now'][name]:8.0f} {min(values):8.0f} "
              f"{median['now'][name] - floor:8.0f} {then}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"runs": options.runs, "median_ms": median,
                                   "before_ms": {label: before}}, indent=2) + "\n")


if __name__ == "__main__":
    main()
