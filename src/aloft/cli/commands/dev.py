"""`aloft dev [STAGE]`: run a stage on the local cloud in the foreground, reloading on save."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import click
from rich.markup import escape

from aloft.cli import log_view, providers, render
from aloft.cli.completers import stage_argument
from aloft.cli.helptext import examples
from aloft.cli.log_view import Shown
from aloft.cli.project import load_service, state
from aloft.errors import Interrupted, interrupt_exit_code
from aloft.provider import LocalRuns


def _interrupt(signum: int, frame: object) -> None:
    raise Interrupted(exit_code=128 + signum)


def show_line(shown: Shown) -> None:
    render.out().print(log_view.render(shown, shown.line.function), soft_wrap=True,
                       highlight=False)


@click.command(
    "dev",
    short_help="Run a stage locally and redeploy it on every save.",
    epilog=examples(
        "aloft dev                 # the default stage, on http://127.0.0.1:8750/<service>/<stage>/",
        "aloft dev dev --port 9000",
    ),
)
@stage_argument(required=False)
@click.option("--port", type=click.IntRange(0, 65535),
              help="The local cloud's port when aloft dev starts it (default $ALOFT_PORT, "
              "else the port it last had, else 8750).")
@click.option("--home", type=click.Path(file_okay=False, path_type=Path),
              help="State directory (default $ALOFT_HOME or ~/.local/share/aloft).")
@click.option("--interval", type=click.FloatRange(0.02, 5), default=0.1, show_default=True,
              help="Seconds between two looks at the project's files.")
def command(stage: str | None, port: int | None, home: Path | None, interval: float) -> None:
    """Deploy STAGE to the local cloud, stream its logs and redeploy whenever a project file
    changes; the next request after a save runs the new code. Ctrl-C stops, exit code 130
    (and stops the local cloud too if aloft dev started it). Replaces `serverless offline`,
    `sam local start-api` and `chalice local`."""
    from aloft.cli.devserver import (
        DevSession,
        InitOutputGate,
        LogFollower,
        LogPrinter,
        snapshot,
    )
    from aloft.cli.errors import error_text
    from aloft.errors import AloftError
    from aloft.local.control.client import CloudClient

    service = load_service(stage)
    root = state().root
    # Ctrl-C and SIGTERM both stop cleanly, also when started where SIGINT was ignored (`cmd &`).
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    client = CloudClient(home, port)
    started_here = client.running() is None
    follower: LogFollower | None = None
    printer: LogPrinter | None = None
    stop = threading.Event()
    stopped: KeyboardInterrupt | None = None
    try:
        if started_here:
            with render.spinner("starting the local cloud…"):
                client.start()
        if not isinstance(providers.provider_for(service), LocalRuns):
            render.warning(f"stage {service.stage} deploys to {service.provider}; aloft dev runs "
                           "it on the local cloud")
        from aloft.stage.names import stage_prefix

        printer = LogPrinter(stage_prefix(service.service, service.stage) + "-", show_line)
        gate = InitOutputGate(printer.line)
        session = DevSession(root, lambda: load_service(service.stage), client, gate)
        console = render.err()
        baseline = snapshot(root)  # before the build: a save from now on is reloaded
        try:
            result = session.deploy(show=True)
        except AloftError as exc:  # broken at start: say why and wait for the fixing save
            console.print(f"[red]✗ deploy failed[/red]: {escape(error_text(exc))}")
            url = f"http://127.0.0.1:{client.port}/{service.service}/{service.stage}/"
        else:
            functions = ", ".join(f"{k} v{v}" for k, v in sorted(result["functions"].items()))
            console.print(f"[green]✓[/green] {escape(service.service)} {escape(service.stage)} "
                          f"version {result['version']} ({escape(functions)})")
            url = str(result["url"])
        console.print(f"  [bold]{escape(url)}[/bold]")
        console.print(f"  [dim]watching {escape(str(root))} — save a file to reload, "
                      "Ctrl-C to stop[/dim]")
        follower = LogFollower(client, service.service, service.stage, gate.line,
                               printer.tick, batch=printer.batch)
        follower.start()
        for reload in session.watch(stop, interval, since=baseline):
            names = ", ".join(reload.files[:3]) + (" …" if len(reload.files) > 3 else "")
            if reload.version is None:
                why = escape(reload.error or "")
                console.print(f"[red]✗ reload failed[/red] [dim]({escape(names)})[/dim]: {why}\n"
                              "  [dim]the previous version (if any) keeps serving; save again "
                              "to retry[/dim]")
            else:
                instead = f" (replaces {reload.replaced})" if reload.replaced else ""
                console.print(f"[green]↻[/green] reloaded {escape(names)} → version "
                              f"{reload.version}{instead} [dim]in {reload.latency_ms:.0f} ms "
                              "from the save[/dim]")
    except KeyboardInterrupt as exc:  # the watch loop ends only so
        stopped = exc
    finally:
        stop.set()
        if follower is not None:
            follower.stop.set()
        if printer is not None:
            printer.flush()  # what still waited for a request line
        if started_here:
            # A second Ctrl-C must not leave the cloud half-stopped: stopping is bounded
            # (STOP_TIMEOUT, then SIGKILL) and takes well under a second when all is well.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            try:
                client.stop()
            finally:
                signal.signal(signal.SIGINT, _interrupt)
    after = ("it stopped the local cloud it started" if started_here else
             "the local cloud keeps running (it was running before)")
    render.note(f"aloft dev stopped: {after}")
    if stopped is not None:
        raise Interrupted(exit_code=interrupt_exit_code(stopped)) from None
