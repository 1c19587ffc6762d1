"""The data plane's hot path compiled with mypyc, and the daemon's choice to run it.

Every request goes through the HTTP server, the gateway, the instance pool and the log
framing in the daemon's one event loop; their Python is what separates aloft's gateway from
the design's floor (issue 16, docs/local-cloud.md's Figures). mypyc compiles these modules,
type-checked and unchanged, to C extensions: the gateway's CPU per request falls by a fifth to
a third, and throughput rises by 10-40 % (the fourteenth round).

They are built apart from the sources, never beside them (an editable install would run a
stale extension in place of an edited module): `python -m aloft.local.compiled` (`make setup`
runs it) compiles a copy of the package into a directory named after a hash of every source
file of the package. The daemon, and only the daemon, calls `activate` before it imports the
data plane: the build whose hash matches the sources it runs, if there is one, is put first
on these modules' packages' paths; else it runs the sources. `ALOFT_COMPILED=0` turns it off.
Tests that import these modules in their own process run the sources (and may patch them);
every test that starts a daemon runs the compiled modules.

A daemon that finds no build of its sources starts one in the background (`compile_later`),
where it can (mypy installed, `pip install 'aloft[fast]'`, and a C compiler): a pip-installed
aloft, whose sources no `make setup` compiled, runs its data plane compiled from its second
start on. One build at a time per sources: the builder holds a lock (`lock_path`) that holds
its pid; a background build that failed is not tried again by daemons (`failed_path`).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import aloft

MODULES = (
    "aloft.access_log",
    "aloft.local.http.gateway",
    "aloft.local.http.routing",
    "aloft.local.http.server",
    "aloft.local.instances.awake",
    "aloft.local.instances.concurrency",
    "aloft.local.instances.instance",
    "aloft.local.instances.log_framing",
    "aloft.local.instances.log_reader",
    "aloft.local.instances.output",
    "aloft.local.instances.pool",
    "aloft.local.instances.templates",
    "aloft.local.instances.trace_ids",
    "aloft.local.instances.worker.event_builders",
    "aloft.local.instances.worker.protocol",
    "aloft.local.store.logs",
    "aloft.local.store.metrics",
    "aloft.local.store.registry",
    "aloft.local.types",
)
"""What is compiled: the modules a request to a function goes through in the daemon. The two of
the worker's that the gateway uses too (it packs requests, reads frames) are compiled for the
daemon only: instances run the sources, in the function's own Python, whichever it is."""
ENV_SWITCH = "ALOFT_COMPILED"  # "0": the daemon runs the sources
ENV_DIR = "ALOFT_COMPILED_DIR"  # where builds go (default: see builds_dir)
MANIFEST = "manifest.json"
_TREE, _LIB = "tree", "lib"  # a build's modules, by package; mypyc's shared runtime library


class CompileError(Exception):
    """The build failed: why, and how to fix it."""


def package_root() -> Path:
    return Path(aloft.__file__).resolve().parent


def sources_key(root: Path | None = None) -> str:
    """A hash of every Python file of the package (its path and bytes): any edit anywhere, a
    type the compiled modules use included, makes another key, whose build does not exist."""
    root = root or package_root()
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def builds_dir(root: Path | None = None) -> Path:
    """$ALOFT_COMPILED_DIR; else build/compiled in a source checkout (src/ layout, as `make
    setup` installs it); else ~/.cache/aloft/compiled."""
    explicit = os.environ.get(ENV_DIR)
    if explicit:
        return Path(explicit).expanduser()
    root = root or package_root()
    checkout = root.parent.parent
    if root.parent.name == "src" and (checkout / "pyproject.toml").is_file():
        return checkout / "build" / "compiled"
    return Path.home() / ".cache" / "aloft" / "compiled"


def _tag() -> str:
    """The interpreter a build is for: extensions load only in the one they were built for."""
    return f"{sys.implementation.cache_tag}-{sysconfig.get_platform()}"


def build_dir(root: Path | None = None) -> Path:
    """Where the build of these sources for this interpreter is (or would be)."""
    return builds_dir(root) / f"{_tag()}-{sources_key(root)[:24]}"


def _module_file(module: str) -> Path:
    return Path(*module.split(".")[1:]).with_suffix(".py")


_why_not: str | None = "only the daemon runs the compiled modules"


def activate() -> str | None:
    """Run the compiled modules in this process from now on, if a build of the current sources
    exists; None when it does, else why not. Call it before anything imports them."""
    global _why_not
    _why_not = _activate()
    return _why_not


def unavailable(where: Path | None = None) -> str | None:
    """Why a process started now would run the sources (None: it would run the build at
    `where`, by default the build of these sources). `aloft doctor` asks this."""
    if os.environ.get(ENV_SWITCH, "1") == "0":
        return f"{ENV_SWITCH}=0"
    where = where or build_dir()
    try:
        manifest = json.loads((where / MANIFEST).read_text())
    except (OSError, ValueError):
        return "not compiled for these sources: `python -m aloft.local.compiled` compiles them"
    if manifest.get("modules") != list(MODULES):
        return f"{where} holds other modules: `python -m aloft.local.compiled` compiles them"
    return None


def _activate() -> str | None:
    early = next((m for m in MODULES if m in sys.modules), None)
    if early is not None and os.environ.get(ENV_SWITCH, "1") != "0":
        return f"{early} was imported before the build could be put first"
    where = build_dir()
    why = unavailable(where)
    if why is not None:
        return why
    sys.path.insert(0, str(where / _LIB))
    for package in sorted({m.rpartition(".")[0] for m in MODULES}):
        parts = package.split(".")[1:]
        path = importlib.import_module(package).__path__
        path.insert(0, str(where.joinpath(_TREE, *parts)))
    return None


def describe() -> str:
    """What this process runs of the data plane, read off the modules it has loaded."""
    loaded = [sys.modules[m] for m in MODULES if m in sys.modules]
    native = [m for m in loaded if not str(getattr(m, "__file__", "")).endswith(".py")]
    if loaded and len(native) == len(loaded):
        return f"compiled with mypyc ({len(native)} modules)"
    if native:
        return f"partly compiled ({len(native)} of {len(loaded)} modules)"
    return "Python sources" + (f" ({_why_not})" if _why_not else "")


def failed_path(target: Path | None = None) -> Path:
    """Where a background build of `target` that failed left why (`python -m
    aloft.local.compiled` tries again, and removes it when it succeeds)."""
    target = target or build_dir()
    return target.parent / f".{target.name}.failed"


def lock_path(target: Path | None = None) -> Path:
    """The lock a build of `target` (default: these sources') is made under; it holds the
    builder's pid."""
    target = target or build_dir()
    return target.parent / f".{target.name}.lock"


def builder(lock: Path) -> int | None:
    """The pid of the process building under `lock`, if one is (it holds the lock)."""
    try:
        fd = os.open(lock, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = os.read(fd, 32).decode(errors="replace").strip()
            return int(text) if text.isdigit() else 0
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _compiler() -> str | None:
    """The C compiler extensions are built with, if it is here."""
    cc = (sysconfig.get_config_var("CC") or "cc").split()
    return shutil.which(cc[0]) if cc else None


def compile_later(log: Path) -> str | None:
    """Start building the data plane for these sources in a detached child at the lowest CPU
    priority, its output in `log`, when no build exists, none is being made and one can be
    made here; what it does (for the daemon's log and status), or None when nothing is to be
    done or can be (`aloft doctor` says why)."""
    if os.environ.get(ENV_SWITCH, "1") == "0":
        return None
    target = build_dir()
    if (target / MANIFEST).is_file():
        return None
    running = builder(lock_path(target))
    if running is not None:
        return f"being compiled in the background (pid {running})"
    if failed_path(target).is_file():
        return (f"its build failed ({failed_path(target)}); `python -m aloft.local.compiled` "
                "tries again")
    if importlib.util.find_spec("mypy") is None or _compiler() is None:
        return None
    with open(log, "ab") as out:
        child = subprocess.Popen(
            [sys.executable, "-P", "-m", "aloft.local.compiled", "--background"],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, cwd="/",
            start_new_session=True)  # it outlives the daemon: a stop does not waste the work
    return f"compiling it in the background (pid {child.pid}; the next start runs it compiled)"


def build() -> Path:
    """Compile MODULES for the current sources, unless built already; the build's directory.
    Raises CompileError (mypy missing, no C compiler, a type error). Another process building
    them is waited for."""
    target = build_dir()
    if (target / MANIFEST).is_file():
        return target
    built = _build_locked(target, wait=True)
    assert built is not None  # (waited for the lock)
    return built


def _build_locked(target: Path, *, wait: bool) -> Path | None:
    """Build under the lock (holding our pid); without `wait`, None when another process
    holds it (it builds them)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path(target), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            return None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        return _build(target)
    finally:
        os.close(fd)  # (releases the lock)


def _build(target: Path) -> Path:
    if (target / MANIFEST).is_file():  # made while we waited for the lock
        return target
    try:
        import mypy.version
    except ImportError:
        raise CompileError("mypyc comes with mypy, which is not installed: "
                           "pip install mypy (or run the Python sources)") from None
    print(f"compiling the data plane with mypyc (about a minute): {len(MODULES)} modules "
          f"-> {target}", flush=True)
    with tempfile.TemporaryDirectory(prefix="aloft-mypyc-") as scratch:
        src = Path(scratch) / "src"
        shutil.copytree(package_root(), src / "aloft",
                        ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.pyc"))
        _compile(src)
        staging = Path(tempfile.mkdtemp(prefix=".building-", dir=target.parent))
        try:
            _collect(src, staging)
            (staging / MANIFEST).write_text(json.dumps({
                "modules": list(MODULES), "python": sys.version.split()[0],
                "mypy": mypy.version.__version__, "key": sources_key(),
            }, indent=1))
            os.rename(staging, target)  # whole or not at all (another build may have won)
            failed_path(target).unlink(missing_ok=True)
        except OSError:
            if not (target / MANIFEST).is_file():
                raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    _prune(target)
    return target


def _compile(src: Path) -> None:
    # The project's checks are `mypy --strict` (make lint); compiling needs the types only.
    (src / "mypy.ini").write_text(
        "[mypy]\nignore_missing_imports = True\nplugins = pydantic.mypy\n"
        "warn_unused_ignores = False\n")
    done = subprocess.run(
        [sys.executable, "-m", "mypyc", *(str(Path("aloft") / _module_file(m)) for m in MODULES)],
        cwd=src, capture_output=True, text=True, check=False,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    if done.returncode != 0:
        lines = (done.stdout + done.stderr).strip().splitlines()
        # mypy's and gcc's own errors, which its last lines (gcc's notes, setuptools) bury
        errors = [line for line in lines if ": error:" in line][:10] or lines[-15:]
        raise CompileError(f"mypyc failed (exit {done.returncode}); the daemon runs the "
                           "Python sources until it succeeds:\n" + "\n".join(errors))


def _collect(src: Path, staging: Path) -> None:
    """The extensions mypyc left beside the copy's sources, into the build's layout."""
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    (staging / _LIB).mkdir()
    for shared in src.glob(f"*{suffix}"):  # the group's runtime library
        shutil.copy2(shared, staging / _LIB / shared.name)
    for module in MODULES:
        compiled = (src / "aloft" / _module_file(module)).with_suffix(suffix)
        if not compiled.is_file():
            raise CompileError(f"mypyc left no extension for {module}")
        dest = staging / _TREE / _module_file(module).with_suffix(suffix)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(compiled, dest)


KEEP_BUILDS = 3  # builds kept per interpreter: the newest (other checkouts may share them)


def _prune(keep: Path) -> None:
    """Builds for this interpreter beyond the newest KEEP_BUILDS are of older sources: removed
    (a daemon that runs one has its extensions mapped already)."""
    prefix = f"{_tag()}-"
    others = [d for d in keep.parent.iterdir()
              if d != keep and d.name.startswith(prefix) and d.is_dir()]
    others.sort(key=lambda d: d.stat().st_mtime, reverse=True)
    for old in others[KEEP_BUILDS - 1:]:
        shutil.rmtree(old, ignore_errors=True)
        lock_path(old).unlink(missing_ok=True)
        failed_path(old).unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    """`python -m aloft.local.compiled`: build for the current sources (silent when built);
    `--background` (a daemon's): not when another process is building them already, and its
    failure is remembered (`failed_path`: daemons do not try again at every start)."""
    background = "--background" in (sys.argv[1:] if argv is None else argv)
    try:
        if background:
            _build_locked(build_dir(), wait=False)
        else:
            build()
    except (CompileError, OSError) as exc:
        print(f"aloft: the data plane was not compiled: {exc}", file=sys.stderr)
        if background:
            with contextlib.suppress(OSError):
                failed_path().write_text(f"{exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    if "--background" in sys.argv:
        os.nice(19)  # (a daemon's child: the lowest CPU priority)
    sys.exit(main())
