"""The top level: turns every exception into a short message and an exit code.

An AloftError prints `error: <where>: <what>` and `fix: <how>` on stderr, one line each, with
its detail (a function's init error and the user's frames) indented in between when it has one,
and exits with its exit code (1, or 2 for usage errors). Anything unexpected prints one line plus
a hint to rerun with --verbose, which shows the traceback. Library code never exits; only this.

Stopping: Ctrl-C prints `interrupted` (with what the command left behind, when it says) and
exits 130; SIGTERM the same with 143 (`install_signal_handlers` makes it a KeyboardInterrupt, so
the same clean-up runs). Answering no at a confirmation prompt (or ending the input at a
prompt) prints `aborted: <what was left>`, exit 1 (aloft.cli.prompts).
"""

from __future__ import annotations

import signal
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import PurePath

import click

from aloft.cli.prompts import Declined, interrupt_of
from aloft.errors import (
    AloftError,
    ConfigError,
    ConfigErrors,
    DeployError,
    Interrupted,
    InvokeError,
    NotDeployedError,
    PackageError,
    ProviderError,
    UsageError,
    interrupt_exit_code,
)

# Used when an error carries no fix of its own: the most useful next step for its kind.
_DEFAULT_FIXES: list[tuple[type[AloftError], str]] = [
    (NotDeployedError, "deploy the stage first: aloft deploy <stage>"),
    (ConfigErrors, "correct {config}; `aloft validate` lists every problem"),
    (ConfigError, "correct {config}, then check it with `aloft validate`"),
    (PackageError, "check requirements.txt and the `exclude` list, then rerun `aloft package`"),
    (DeployError, "the previous version keeps serving; correct the problem and deploy again"),
    (InvokeError, "read the function's output above; `aloft tail <stage>` shows deployed logs"),
    (ProviderError, "run `aloft status <stage>`, or rerun with --verbose for details"),
    (UsageError, "see `aloft --help` or `aloft <command> --help`"),
]


def one_line(text: str) -> str:
    """Collapse a multi-line message so that the two-line contract holds."""
    return "; ".join(part.strip() for part in text.strip().splitlines() if part.strip())


def format_error(error: AloftError) -> tuple[str, str]:
    """The two lines printed for an AloftError (without trailing newlines)."""
    message = error.message
    if isinstance(error, ConfigErrors) and len(error.errors) > 1:
        message += f" (and {len(error.errors) - 1} more problem(s))"
    where = str(error.where) if error.where else ""
    what = f"{where}: {message}" if where else message
    fix = error.fix or next(
        (text for kind, text in _DEFAULT_FIXES if isinstance(error, kind)),
        "rerun with --verbose for details",
    )
    if not error.fix and isinstance(error, ConfigError):
        # the file the error is in: serverless.yml or zappa_settings.json are read as they are
        file = error.where.file if error.where else None
        fix = fix.format(config=PurePath(file).name if file else "aloft.yml")
    return f"error: {one_line(what)}", f"fix: {one_line(fix)}"


def error_lines(error: AloftError) -> list[str]:
    """Everything printed for an AloftError: its error line, its detail, its fix line."""
    what, fix = format_error(error)
    detail = ["  " + line.rstrip() for line in (error.detail or "").splitlines() if line.strip()]
    return [what, *detail, fix]


def error_text(error: AloftError) -> str:
    """An error shown inside other output (aloft dev's reloads): where and what, its detail,
    its fix, without the `error:` prefix."""
    first, *rest = error_lines(error)
    return "\n".join([first.removeprefix("error: "), *rest[:-1], "  " + rest[-1]])


def _usage_fix(error: click.UsageError) -> str:
    ctx = error.ctx
    if ctx is not None:
        return f"see `{ctx.command_path} --help`"
    return "see `aloft --help`"


def _emit(*lines: str) -> None:
    for line in lines:
        sys.stderr.write(line + "\n")
    sys.stderr.flush()


def _on_sigterm(signum: int, frame: object) -> None:
    raise Interrupted(exit_code=128 + signal.SIGTERM)


def install_signal_handlers() -> None:
    """SIGTERM unwinds like Ctrl-C (exit 143), instead of killing the process mid-step. Only
    in the main thread (signal handlers can be set nowhere else)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_sigterm)


def _interrupted(exc: KeyboardInterrupt) -> int:
    detail = exc.detail if isinstance(exc, Interrupted) else ""
    word = "terminated" if interrupt_exit_code(exc) == 128 + signal.SIGTERM else "interrupted"
    _emit(f"{word}: {one_line(detail)}" if detail else word)
    return interrupt_exit_code(exc)


def run(invoke: Callable[[], object], *, verbose: bool) -> int:
    """Run the command line and return the process exit code."""
    try:
        result = invoke()
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except Declined as exc:  # a confirmation answered no (or end of input at a prompt)
        _emit(f"aborted: {one_line(exc.left)}")
        return 1
    except click.exceptions.Abort as exc:
        interrupt = interrupt_of(exc)  # click turns Ctrl-C into Abort
        if interrupt is not None:
            return _interrupted(interrupt)
        _emit("aborted")  # a prompt not asked through aloft.cli.prompts (none is)
        return 1
    except click.exceptions.NoArgsIsHelpError as exc:
        sys.stderr.write(exc.format_message() + "\n")  # a group run bare: its help, as click does
        return exc.exit_code
    except click.UsageError as exc:
        _emit(f"error: {one_line(exc.format_message())}", f"fix: {_usage_fix(exc)}")
        return 2
    except click.ClickException as exc:
        _emit(f"error: {one_line(exc.format_message())}", "fix: see `aloft --help`")
        return exc.exit_code
    except AloftError as exc:
        if verbose:
            traceback.print_exc()
        _emit(*error_lines(exc))
        return exc.exit_code
    except KeyboardInterrupt as exc:
        return _interrupted(exc)
    except BrokenPipeError:
        return 1
    except Exception as exc:
        if verbose:
            traceback.print_exc()
            _emit(f"error: unexpected {type(exc).__name__}: {one_line(str(exc))}")
        else:
            _emit(
                f"error: unexpected {type(exc).__name__}: {one_line(str(exc))}",
                "run with --verbose for the traceback",
            )
        return 1
    # click's non-standalone mode returns the code of an explicit `ctx.exit(code)`.
    return result if isinstance(result, int) else 0
