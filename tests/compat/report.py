"""Run every check of the compatibility corpus on every project and print how many pass.

    .venv/bin/python -m tests.compat.report            # validate, import, template, deploy
    .venv/bin/python -m tests.compat.report deploy     # only deploy

`deploy` starts a local cloud on a free port with a temporary ALOFT_HOME (and stops it).
"""

from __future__ import annotations

import socket
import sys
import tempfile
from pathlib import Path

from tests.compat.expected import CALLS
from tests.compat.harness import CHECKS, check_all, check_deploy, projects


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main(names: list[str]) -> int:
    checks = names or list(CHECKS)
    results: dict[tuple[str, str], str | None] = {}
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        if set(checks) - {"deploy"}:
            results.update(check_all(projects(), scratch / "files"))
        if "deploy" in checks:
            from aloft.local.control.client import CloudClient

            home, port = scratch / "home", _free_port()
            client = CloudClient(home, port)
            client.start()
            try:
                for project in projects():
                    where = scratch / "deploy" / project
                    where.mkdir(parents=True)
                    results[project, "deploy"] = check_deploy(
                        project, where, home=home, port=port, call=CALLS.get(project),
                        cache=scratch / "build-cache")
            finally:
                client.stop()
    width = max(len(p) for p in projects())
    print(f"{'project':{width}}  " + "  ".join(f"{c:8}" for c in checks))
    for project in projects():
        marks = ["pass" if results[project, c] is None else "FAIL" for c in checks]
        print(f"{project:{width}}  " + "  ".join(f"{m:8}" for m in marks))
    print(f"{'passing':{width}}  " + "  ".join(
        f"{sum(results[p, c] is None for p in projects())}/{len(projects())}".ljust(8)
        for c in checks))
    for (project, check), why in sorted(results.items()):
        if why is not None:
            print(f"\n{project} {check}: {why}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
