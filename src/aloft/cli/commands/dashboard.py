"""`aloft dashboard`: print (and open) the local cloud's dashboard link."""

from __future__ import annotations

import os
import webbrowser
from pathlib import Path

import click

from aloft.cli import render
from aloft.cli.helptext import examples


def dashboard_url(port: int, token: str) -> str:
    """The link that logs a browser in: the token is traded for a cookie on first use and
    dropped from the address bar."""
    return f"http://127.0.0.1:{port}/_aloft/?token={token}"


def _can_open() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
                or os.environ.get("BROWSER") or os.uname().sysname == "Darwin")


@click.command(
    "dashboard",
    short_help="Open the local cloud's web dashboard.",
    epilog=examples("aloft dashboard", "aloft dashboard --no-open   # only print the link"),
)
@click.option("--home", type=click.Path(file_okay=False, path_type=Path),
              help="State directory (default $ALOFT_HOME or ~/.local/share/aloft).")
@click.option("--port", type=click.IntRange(0, 65535), hidden=True,
              help="Ignored: the running local cloud is found on its own port.")
@click.option("--no-open", is_flag=True, help="Print the link without opening a browser.")
@click.option("--json", "as_json", is_flag=True, help='Print {"url": ...}.')
def command(home: Path | None, port: int | None, no_open: bool, as_json: bool) -> None:
    """Print the running local cloud's dashboard link and open it in a browser (it never
    starts a cloud: `aloft cloud start` does). The link carries the control token: do not share
    it."""
    from aloft.local.control.client import CloudClient

    client = CloudClient(home, port)
    info = client.require_running()
    url = dashboard_url(info.port, client.home.token() or "")
    if as_json:
        render.print_json({"url": url})
        return
    render.out().print(url, markup=False, soft_wrap=True)
    if not no_open and _can_open():
        webbrowser.open(url)
