"""Which isolation the daemon's instances get, and what each process is told to hide and keep.

On Linux with unprivileged user namespaces, every template, zygote and fresh instance narrows
its view of the machine as it starts (worker/sandbox.py): `$ALOFT_HOME`, the user's `~/.aws`,
the build cache (`~/.cache/aloft`: every project's dependencies, zipped and unpacked), the
user's whole home directory (other projects, SSH keys, other clouds' credentials) and the
directories of the projects deployed (their sources and `.env` files, wherever they are:
/srv/shop too) are empty, what it needs from them (its code and layers, the interpreter) bound
back read-only, /tmp its own; on Linux 6.12+ it also cannot signal processes other than its own
children (Landlock's scopes). A zygote sees, of the artifact store, only its own view of it
(zygote_view.py): its layer and the code of the versions it forks, never another service's.
Where user namespaces are turned off (Ubuntu's AppArmor rule, a sysctl, some containers),
Landlock's file rules give the same view on the machine's own mounts (Linux 5.13+): hidden
directories unreadable rather than empty, /tmp the machine's, and a zygote that keeps the whole
store (its rules cannot grow as versions are deployed). Where neither works (another OS),
instances run with the daemon's view; `aloft doctor` and `aloft cloud status` say which it is.
ALOFT_SANDBOX=0 turns it off (debugging), ALOFT_SANDBOX=landlock asks for Landlock where
namespaces work too; ALOFT_SANDBOX_SHARE (directories, `:`-separated) binds host directories
read-write into every instance, as an EFS mount would be (the test suite's functions report
through files), also inside the user's home, without showing a hidden directory again if it
lies inside one.

The daemon `configure`s it once at start (a probe in a child process, ~20 ms); the pool reads
`current()` when it starts a process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from aloft.local.types import FunctionVersion

if TYPE_CHECKING:
    from aloft.local.instances.zygote_view import ZygoteView

SANDBOX_MAIN = Path(__file__).parent / "worker" / "sandbox.py"
NAMESPACES = "namespaces"
LANDLOCK = "landlock"  # no user namespaces: Landlock's file rules on the machine's own mounts


@dataclass(frozen=True)
class Isolation:
    """The isolation in force: `mode` is "namespaces", "landlock" or "none"; `detail` says why
    or what."""

    mode: str
    detail: str
    hide: tuple[str, ...] = ()
    artifacts: str | None = None  # the artifact store's unpacked trees (templates hide them)
    share: tuple[str, ...] = ()  # bound read-write (ALOFT_SANDBOX_SHARE)
    views: str | None = None  # where zygotes' views of `artifacts` are made (namespaces only)
    projects: tuple[str, ...] = ()  # the deployed projects' directories (`hide_projects`)
    where: str = "in the local cloud"  # where functions run so (for warnings)

    @property
    def active(self) -> bool:
        return self.mode in (NAMESPACES, LANDLOCK)

    def unseen(self, value: str) -> str | None:
        """The host path an environment value names (`/srv/data`, `sqlite:////home/u/dev.db`,
        `file:///...`) when it exists here and functions cannot see it (in a hidden directory,
        not shared); else None. A deploy warns of it: the function would fail on it at run
        time with a bare ENOENT or EACCES."""
        if not self.active:
            return None
        path = value.strip()
        if path.startswith("sqlite:///"):  # (`sqlite:///dev.db` is relative, `sqlite:////x` not)
            path = path[len("sqlite:///"):]
        elif path.startswith("file://"):
            path = path[len("file://"):]
        if not path.startswith("/") or "\n" in path or len(path) > 4096:
            return None
        try:
            if not os.path.exists(path):
                return None
        except (OSError, ValueError):
            return None
        # (imported here: the daemon's start does not load the sandbox and ctypes)
        from aloft.local.instances.worker.sandbox import _under as under

        real = os.path.realpath(path)
        hidden = [os.path.realpath(h) for h in (*self.hide, *self.projects)]
        if not under(real, hidden):
            return None
        # a share inside a hidden directory shows through it; one around it does not
        # (the hidden directory is covered again inside it: worker/sandbox.py)
        shares = [os.path.realpath(s) for s in self.share]
        if any(under(real, [s]) and under(s, hidden) for s in shares):
            return None
        return real

    def unseen_warnings(self, function: str, environment: Iterable[tuple[str, str]],
                        share: str) -> list[str]:
        """A warning for each of `function`'s environment values that names a path it cannot
        see (`unseen`), with `share` (a command, `{folder}` in it) as the fix."""
        warnings = []
        for name, value in environment:
            path = self.unseen(value)
            if path is not None:
                folder = path if os.path.isdir(path) else os.path.dirname(path)
                warnings.append(
                    f"function {function}: environment {name} names {path}, which functions "
                    f"{self.where} cannot see (as on Lambda, they see their own code, not your "
                    "project's sources, your home directory or the platform's). Keep the data "
                    "in /tmp, a database or a bucket, or share its directory as an EFS mount "
                    "would be: "
                    + share.format(folder=folder))
        return warnings

    def _dump(self, spec: dict[str, object]) -> str:
        if self.mode == LANDLOCK:
            spec["mode"] = LANDLOCK
        return json.dumps(spec)

    def describe(self) -> str:
        return f"{self.mode} ({self.detail})"

    def spec(self, fv: FunctionVersion, *, zygote: bool = False,
             also: tuple[str, ...] = (), view: ZygoteView | None = None) -> str | None:
        """The JSON spec a worker process narrows itself with (None: no isolation); `also`:
        more directories it keeps (read-only). A zygote sees `view` where the artifacts are
        (its layer and the code it forks templates of: see zygote_view.py); without one (no
        namespaces: Landlock), it keeps all of them."""
        if not self.active:
            return None
        keep = [str(d) for d in (fv.layer_dir, fv.runtime_dir) if d is not None]
        keep += also
        spec: dict[str, object] = {"hide": [*self.hide, *self.projects], "keep": keep,
                                   "share": list(self.share), "tmp_mb": fv.ephemeral_storage}
        if zygote and view is not None and self.artifacts:
            spec["map"] = [[str(view.path), self.artifacts]]
        elif zygote and self.artifacts:
            keep.append(self.artifacts)
        elif not zygote:
            keep.insert(0, str(fv.code_dir))
        return self._dump(spec)

    def run_spec(self, keep: list[str], *, tmp_mb: int, share: tuple[str, ...] = ()
                 ) -> str | None:
        """The spec of a process that runs one invocation outside the daemon (`aloft invoke
        --local`: worker/sandbox.py's `run`): it keeps `keep` (its code, layer and runtime) and
        binds `share` read-write as well as ALOFT_SANDBOX_SHARE's directories."""
        if not self.active:
            return None
        return self._dump({"hide": list(self.hide), "keep": keep,
                           "share": [*self.share, *share], "tmp_mb": tmp_mb})

    def template_spec(self, fv: FunctionVersion) -> str | None:
        """The spec of a template forked from a zygote: it hides the artifacts the zygote
        kept and the projects deployed since the zygote started, and keeps its own code and
        layer."""
        if not self.active or not self.artifacts:
            return self.spec(fv)
        keep = [str(fv.code_dir)] + ([str(fv.layer_dir)] if fv.layer_dir else [])
        return self._dump({"hide": [self.artifacts, *self.projects], "keep": keep,
                           "share": list(self.share),
                           "tmp_mb": fv.ephemeral_storage})


_OFF = Isolation("none", "not configured")
_current = _OFF


def probe() -> tuple[str, str]:
    """The isolation a process can have here (namespaces, landlock or none), and what it does
    or why there is none. ALOFT_SANDBOX: 0 none, landlock that alone (tests, or to compare)."""
    asked = os.environ.get("ALOFT_SANDBOX", "1")
    if asked == "0":
        return "none", "turned off by ALOFT_SANDBOX=0"
    if not sys.platform.startswith("linux"):
        return "none", f"no user namespaces on {sys.platform}: instances see the daemon's files"
    argv = [sys.executable, "-S", "-P", str(SANDBOX_MAIN), "probe"]
    try:
        done = subprocess.run(argv + ([LANDLOCK] if asked == LANDLOCK else []),
                              capture_output=True, text=True, timeout=20, check=False, cwd="/")
    except (OSError, subprocess.TimeoutExpired) as exc:
        return "none", f"the probe did not run: {exc}"
    answer = done.stdout.strip() or done.stderr.strip()[-300:]
    first, _, scoped = answer.partition("\n")
    signals = ("signals and abstract sockets confined (Landlock)" if scoped == "scoped"
               else f"other processes can be signalled ({scoped})")
    if first == NAMESPACES:
        return NAMESPACES, ("user + mount namespaces: the home directory, the projects "
                            "deployed, $ALOFT_HOME and the build cache hidden, "
                            f"code read-only, own /tmp; {signals}")
    if first.startswith(LANDLOCK):
        why = first.removeprefix(f"{LANDLOCK}: ")
        return LANDLOCK, (f"Landlock, without user namespaces ({why}): the home directory, "
                          "the projects deployed, $ALOFT_HOME and the build cache unreadable, "
                          "code read-only, writes only to /tmp and /dev (shared with the machine); "
                          f"{signals}")
    return "none", (f"neither user namespaces nor Landlock ({answer.removeprefix('none: ')}): "
                    "instances see the daemon's files")


def hidden_dirs(home: Path) -> tuple[str, ...]:
    """What no instance may see: the home, the user's AWS credentials (they sign calls to
    the Invoke API and the local AWS endpoint as the user), the build cache, and the user's
    own home directory (`user_home`)."""
    own = user_home()
    return (str(home), os.path.expanduser("~/.aws"), *build_caches(), *([own] if own else []))


def user_home() -> str | None:
    """The user's home directory, which a function must not see: other projects and their
    `.env` files, SSH keys, the credentials of every cloud's CLI (~/.config, ~/.netrc,
    ~/.docker, ~/.kube), shell history. Lambda's functions see none of the developer's
    machine. What a function needs from there is bound back read-only as it narrows (its
    code and layers, the interpreter: sandbox._kept). None for a home that is `/` or lies in
    /tmp (each instance has its own /tmp already: covering it would leave none writable)."""
    home = os.path.realpath(os.path.expanduser("~"))
    if home == "/" or not os.path.isdir(home) or home == "/tmp" or home.startswith("/tmp/"):
        return None
    return home


def build_caches() -> tuple[str, ...]:
    """The packager's build caches, $ALOFT_CACHE_DIR and ~/.cache/aloft: the dependencies of
    every project built on this machine, zipped and unpacked (a function's own layer is in
    the artifact store; Lambda's boto3 for the runtime, `runtime/` in there, is kept where a
    version names it). One that holds the user's home (a cache dir of `~` or `/`) is not
    hidden: the home's files are the user's, not the platform's."""
    from aloft.package.cache import default_cache_dir

    user = os.path.realpath(os.path.expanduser("~"))
    found: list[str] = []
    for cache in (default_cache_dir(), Path.home() / ".cache" / "aloft"):
        path = os.path.realpath(cache)
        if path not in found and not (user + "/").startswith(path.rstrip("/") + "/"):
            found.append(path)
    return tuple(found)


def configure(home: Path, artifacts: Path) -> Isolation:
    """Probe once and set what `current()` answers. With namespaces, zygotes' views of the
    artifacts are made beside them (`zygote-views/`, on the same file system: their files are
    hard links); those of an earlier daemon are removed."""
    global _current
    mode, detail = probe()
    if mode != "none":
        share = _shares()
        if share:
            detail += f"; shared read-write: {', '.join(share)}"
        views = None
        if mode == NAMESPACES:
            from aloft.local.instances.zygote_view import sweep

            views = str(sweep(artifacts.parent / "zygote-views"))
        _current = Isolation(mode, detail, hidden_dirs(home), str(artifacts), share, views)
    else:
        _current = Isolation("none", detail)
    return _current


def current() -> Isolation:
    return _current


# What a deployed project may not be: a directory that holds the machine's own (hiding it
# would hide the interpreter's libraries, /tmp or /dev from every function).
_SYSTEM = ("/tmp", "/dev", "/proc", "/sys", "/usr", "/etc", "/lib", "/bin", "/var/tmp")


def hide_projects(roots: Iterable[str | Path]) -> tuple[str, ...]:
    """Hide the directories of projects deployed (`root`s) from every process started from now
    on, as the home is: a function sees its build in the artifact store, not the sources
    beside it, nor another project's (`/srv/shop/.env`), wherever they are; templates hide
    those deployed after their zygote started. A project that holds a system directory (`/`,
    `/usr`) is not hidden; one inside the home is already. Returns those newly hidden (the
    processes running saw them: InstancePool.renarrow)."""
    global _current
    if not _current.active:
        return ()
    from aloft.local.instances.worker.sandbox import _under as under

    hidden = [os.path.realpath(h) for h in _current.hide]
    added = list(_current.projects)
    for root in roots:
        path = os.path.realpath(root)
        if path not in added and os.path.isdir(path) and not under(path, hidden) \
                and not any(under(system, [path]) for system in _SYSTEM):
            added.append(path)
    new = tuple(added[len(_current.projects):])
    if new:
        _current = replace(_current, projects=tuple(added))
    return new


def for_local_run(home: Path, project: Path) -> Isolation:
    """The isolation of `aloft invoke --local`, probed in the CLI's process: the daemon's
    (`home` is the local cloud's), without an artifact store, and `project` hidden too,
    wherever it is (/srv/shop, not only in the home): the function's code is its build in the
    project's `.aloft/run/`, as Lambda's is the artifact, not the sources beside it."""
    mode, detail = probe()
    if mode == "none":
        return Isolation("none", detail)
    return Isolation(mode, detail, (*hidden_dirs(home), str(project)), None, _shares(),
                     where="run by `aloft invoke --local`")


def _shares() -> tuple[str, ...]:
    """ALOFT_SANDBOX_SHARE's directories (`:`-separated), bound read-write into functions."""
    return tuple(p for p in os.environ.get("ALOFT_SANDBOX_SHARE", "").split(os.pathsep) if p)
