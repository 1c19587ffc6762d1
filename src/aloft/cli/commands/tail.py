"""`aloft tail`: a stage's logs, following new lines as they come."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import click
from rich.console import Console

from aloft.cli import providers, render
from aloft.cli.completers import complete_function, stage_argument
from aloft.cli.durations import parse_duration
from aloft.cli.helptext import examples
from aloft.cli.project import begin
from aloft.provider import LogLine


def format_line(line: LogLine) -> str:
    stamp = datetime.fromtimestamp(line.timestamp, UTC).strftime("%H:%M:%S.%f")[:-3]
    return f"{stamp} {line.function} {line.text.rstrip()}"


@click.command(
    "tail",
    short_help="Show and follow a stage's logs.",
    epilog=examples(
        "aloft tail dev                            # follow every function",
        "aloft tail dev --function worker --since 1h",
        "aloft tail prod --filter ERROR --no-follow",
    ),
)
@stage_argument()
@click.option("--function", "-f", "function", help="Only this function's logs.",
              shell_complete=complete_function)
@click.option("--since", default="10m", show_default=True,
              help="How far back to start: 30s, 10m, 2h, 1d.")
@click.option("--filter", "filter_text", help="Only lines containing TEXT.")
@click.option("--no-follow", is_flag=True, help="Print what is there and exit.")
@click.option("--json", "as_json", is_flag=True,
              help="One JSON object per line: timestamp, function, request_id, text.")
def command(stage: str, function: str | None, since: str, filter_text: str | None,
            no_follow: bool, as_json: bool) -> None:
    """Print the logs of STAGE, then follow new lines (Ctrl-C stops, exit code 130)."""
    seconds = parse_duration(since, "--since")
    lifecycle = begin("tail", stage)  # steps: start, run (the lines), finish
    service = lifecycle.service
    lines = providers.provider_for(service).logs(
        service, function=function, since=time.time() - seconds, filter_text=filter_text,
        follow=not no_follow,
    )
    console = render.out()
    with lifecycle.step("run"):
        _print(lines, console, as_json)
    with lifecycle.step("finish"):
        pass


def _print(lines: Iterator[LogLine], console: Console, as_json: bool) -> None:
    # Following ends with Ctrl-C: the KeyboardInterrupt goes up to the top level (exit 130,
    # like any interrupted command; the lines shown are complete).
    for line in lines:
        if as_json:
            print(json.dumps({"timestamp": line.timestamp, "function": line.function,
                              "request_id": line.request_id, "text": line.text}),
                  flush=True)
            continue
        console.print(format_line(line), markup=False, highlight=False, soft_wrap=True)
