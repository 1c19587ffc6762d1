"""Make docs/img/dashboard.png: a local cloud on a free port with a private home, a small app
answering 200s, some 404s and 500s at varying speed for a few minutes, then the stage page's
15-minute window in headless Chromium.

    .venv/bin/python scripts/dashboard_screenshot.py [--minutes 6] [--out docs/img/dashboard.png]
"""

from __future__ import annotations

import argparse
import random
import shutil
import socket
import tempfile
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

APP = """
    import random
    import time
    import traceback

    def app(environ, start_response):
        path = environ.get("PATH_INFO", "/")
        time.sleep(random.choice((0.002, 0.004, 0.008, 0.03)))
        if path.startswith("/orders/"):
            try:
                int(path.rsplit("/", 1)[1]) / 0
            except (ValueError, ZeroDivisionError):
                traceback.print_exc()
            start_response("500 INTERNAL SERVER ERROR", [("Content-Type", "text/plain")])
            return [b"error"]
        if path.startswith("/missing"):
            start_response("404 NOT FOUND", [("Content-Type", "text/plain")])
            return [b"not found"]
        print("served", path)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"hello"]
"""

CONFIG = """
    service: shop
    app: web:app
    functions:
      nightly:
        handler: jobs.nightly
        events:
          - schedule:
              rate: 1 day
    stages:
      dev: {}
"""

JOBS = """
    def nightly(event, context):
        return {"ok": True}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as reply:
            reply.read()
            return int(reply.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=6.0)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img" / "dashboard.png")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from aloft.config import load_project
    from aloft.local.control.client import CloudClient
    from aloft.local.provider import LocalProvider

    work = Path(tempfile.mkdtemp(prefix="aloft-shot-"))
    project, home, port = work / "shop", work / "home", free_port()
    project.mkdir()
    (project / "aloft.yml").write_text(textwrap.dedent(CONFIG))
    (project / "web.py").write_text(textwrap.dedent(APP))
    (project / "jobs.py").write_text(textwrap.dedent(JOBS))
    client = CloudClient(home, port)
    client.start()
    try:
        service = load_project(project).service("dev")
        LocalProvider(home, port).deploy(service)
        base = f"http://127.0.0.1:{port}/shop/dev"
        deadline = time.monotonic() + args.minutes * 60
        rng = random.Random(7)
        while time.monotonic() < deadline:
            burst = rng.randint(5, 40)
            for _ in range(burst):
                roll = rng.random()
                path = ("/orders/7" if roll < 0.04 else "/missing" if roll < 0.12
                        else f"/items/{rng.randint(1, 50)}")
                get(base + path)
            time.sleep(rng.uniform(0.5, 3.0))
        token = client.home.token()
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
                "--headless", "--no-sandbox", "--disable-background-networking", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(f"http://127.0.0.1:{port}/_aloft/?token={token}")
            page.goto(f"http://127.0.0.1:{port}/_aloft/stages/shop/dev?window=15m")
            page.wait_for_function("() => document.body.dataset.updated")
            args.out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.out), full_page=False)
            browser.close()
        print(f"wrote {args.out}")
    finally:
        client.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
