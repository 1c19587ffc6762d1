"""An instance's view of the machine, narrowed to what Lambda gives (Linux; standard library only).

`narrow(spec)` moves the calling process into new, unprivileged user and mount namespaces where
the platform's directories (`hide`: $ALOFT_HOME, the user's ~/.aws, the build cache, the user's
home) are empty tmpfs mounts, the directories it needs (`keep`: its code, its layers, the
interpreter if it lives there) are bound back read-only (a write fails with EROFS, as in
Lambda's /var/task), and /tmp is a tmpfs of the function's ephemeral storage. `map` binds a
directory read-only in the place of another (a zygote's own view of the artifact store, where
the store is). It then enters a second user and mount namespace: there the mounts are locked
(the kernel refuses to unmount or remount them read-write from a less privileged namespace), so
code that keeps capabilities in its own namespace (a template, which mounts each instance's
/tmp) still cannot uncover the platform's files. Processes outside these namespaces (the daemon,
other functions) cannot be ptraced from them, so their /proc/<pid>/environ, root and fds are
refused.

`fresh_tmp(spec)` gives a process forked from a template its own /tmp (a copy of what the
template's init wrote there, as SnapStart restores it), then `drop_privileges()` leaves it
no capability at all.

Namespaces hide files, not processes: every process of the user who runs aloft stays visible
and, sharing that user's uid, could be signalled (`os.kill(daemon_pid, SIGKILL)`) or reached on
an abstract Unix socket (a desktop session's). `confine()` confines both to the process and what
it starts, with Landlock's scopes (Linux 6.12+, unprivileged); `narrow` applies it, and each
instance forked from a template applies it again, so that it cannot signal its template or
its siblings either.

Run as a program (`python -S sandbox.py probe`) it tells whether narrowing works here (first
line) and whether scoping does (second line). `python -S sandbox.py run MODULE` narrows itself
by the spec in its environment (SPEC_ENV, JSON: not in its argv, which `ps` shows every
process, functions included), drops its privileges and runs MODULE as `python -S -m MODULE`
would (`aloft invoke --local`: one invocation, isolated as an instance is).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
from typing import Any

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
MS_RDONLY, MS_NOSUID, MS_NODEV = 1, 2, 4
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_NO_NEW_PRIVS, PR_SET_SECUREBITS = 38, 28
SECBIT_NOROOT, SECBIT_NOROOT_LOCKED = 1, 2
CAP_VERSION_3 = 0x20080522
# Landlock's system calls have these numbers on every architecture (added after 5.x unified them).
SYS_LANDLOCK_CREATE_RULESET, SYS_LANDLOCK_RESTRICT_SELF = 444, 446
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET, LANDLOCK_SCOPE_SIGNAL = 1, 2
SCOPE_ABI = 6  # the first Landlock ABI with scopes (Linux 6.12)
SYS_LANDLOCK_ADD_RULE, LANDLOCK_RULE_PATH_BENEATH = 445, 1
# Landlock's file system rights: what a directory (or, the FILE_RIGHTS among them, a file) rule
# may allow. By ABI: 1 the first 13, 2 REFER, 3 TRUNCATE, 5 IOCTL_DEV.
FS_EXECUTE, FS_WRITE_FILE, FS_READ_FILE, FS_READ_DIR = 1, 2, 4, 8
FS_REFER, FS_TRUNCATE, FS_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
FILE_RIGHTS = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV
READ_RIGHTS = FS_EXECUTE | FS_READ_FILE | FS_READ_DIR | FS_IOCTL_DEV
LANDLOCK = "landlock"  # a spec's mode without user namespaces (see landlock_narrow)
HIDDEN_SIZE = "size=64k,mode=0755"  # what a hidden directory shows: an empty tmpfs

_libc: Any = None
_CAP_HEADER = (ctypes.c_uint32 * 2)(CAP_VERSION_3, 0)
_CAP_DATA = (ctypes.c_uint32 * 6)()  # no capability in any set


class SandboxError(OSError):
    """Narrowing failed (the instance must not start: it would see the platform's files)."""


def _c() -> Any:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


_abi: int | None = None  # the kernel's Landlock ABI, asked once (forked children reuse it)
_ruleset = -1  # the scopes' ruleset, made once: forked children only enforce it (~15 µs, where
# making it takes ~80 µs on a VM)


def landlock_abi() -> int:
    """The kernel's Landlock ABI version; 0 when it has none (or it is turned off)."""
    global _abi
    if _abi is None:
        c = _c()
        c.syscall.restype = ctypes.c_long
        _abi = max(0, int(c.syscall(SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0),
                                    ctypes.c_uint32(LANDLOCK_CREATE_RULESET_VERSION))))
    return _abi


def confine(*, keep: bool = True) -> bool:
    """Confine the signals this process (and what it starts) sends, and the abstract Unix
    sockets it connects to, to processes of its own Landlock domain or nested ones; False when
    the kernel cannot (no Landlock ABI 6). Needs no_new_privs or CAP_SYS_ADMIN in the process's
    user namespace (drop_privileges gives the first, a narrowed template has the second).
    `keep`: keep the ruleset for the children it forks (a forked instance forks none)."""
    global _ruleset
    if landlock_abi() < SCOPE_ABI:
        return False
    c = _c()
    if _ruleset < 0:
        scopes = _RulesetAttr(0, 0, LANDLOCK_SCOPE_SIGNAL | LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET)
        fd = int(c.syscall(SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(scopes),
                           ctypes.c_size_t(ctypes.sizeof(scopes)), ctypes.c_uint32(0)))
        if fd < 0:
            _check(fd, "landlock_create_ruleset")
        _ruleset = fd  # close-on-exec: a program the function runs does not get it
    try:
        _check(int(c.syscall(SYS_LANDLOCK_RESTRICT_SELF, _ruleset, ctypes.c_uint32(0))),
               "landlock_restrict_self")
    finally:
        if not keep:
            os.close(_ruleset)
            _ruleset = -1
    return True


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise SandboxError(errno, f"{what}: {os.strerror(errno)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int,
           data: str | None = None) -> None:
    _check(_c().mount(source and source.encode(), target.encode(), fstype and fstype.encode(),
                      ctypes.c_ulong(flags), data and data.encode()), f"mount {target}")


def _write(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def _new_namespaces() -> None:
    """New user and mount namespaces, the same uid and gid inside as outside."""
    uid, gid = os.geteuid(), os.getegid()
    _check(_c().unshare(CLONE_NEWUSER | CLONE_NEWNS), "unshare")
    with contextlib.suppress(OSError):  # already denied by a parent namespace
        _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"{uid} {uid} 1")
    _write("/proc/self/gid_map", f"{gid} {gid} 1")


def _under(path: str, roots: list[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def _bind(fd: int, path: str) -> None:
    os.makedirs(path, exist_ok=True)
    _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)


def _bind_read_only(fd: int, path: str) -> None:
    _bind(fd, path)
    _mount(None, path, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def _kept(spec: dict[str, Any], hide: list[str]) -> list[str]:
    """The directories to bind back: those asked for, the import path and the working
    directory, when they are under a hidden directory (outermost first, none twice)."""
    wanted = [*spec.get("keep", ()), *os.environ.get("PYTHONPATH", "").split(os.pathsep),
              os.getcwd(), sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]
    paths = sorted({os.path.realpath(p) for p in wanted if p and os.path.isdir(p)}, key=len)
    kept: list[str] = []
    for path in paths:
        if _under(path, hide) and not _under(path, kept):
            kept.append(path)
    return kept


def _tmp_options(spec: dict[str, Any]) -> str:
    return f"size={int(spec.get('tmp_mb') or 512)}m,mode=1777"


def _open(paths: list[str], flags: int = os.O_PATH) -> list[int]:
    return [os.open(p, flags | os.O_DIRECTORY | os.O_CLOEXEC) for p in paths]


class _Layout:
    """What a new mount namespace gets, worked out before it is made: the shared directories
    (bound read-write), the hidden ones (covered), the mapped ones (a directory bound
    read-only in another's place) and the kept ones (bound read-only), each where it is on
    the host; only what lies under `scope` (everything, or /tmp alone for a forked instance).
    A template works its children's out once."""

    def __init__(self, spec: dict[str, Any], scope: list[str]) -> None:
        self.shared = [p for p in (os.path.realpath(s) for s in spec.get("share", ()))
                       if os.path.isdir(p) and _under(p, scope)]
        hidden = [os.path.realpath(p) for p in spec.get("hide", ())]
        # (one inside another is covered with it: no mount point is left to cover it on)
        self.hidden = [r for r in hidden if _under(r, scope)
                       and not any(h != r and _under(r, [h]) for h in hidden)]
        self.mapped = [(s, t) for s, t in ((os.path.realpath(s), os.path.realpath(t))
                                           for s, t in spec.get("map", ()))
                       if os.path.isdir(s) and _under(t, scope)]
        self.kept = _kept(spec, scope)
        self.tmp = _tmp_options(spec).encode()
        laid = [*self.shared, *(t for _, t in self.mapped), *self.kept]
        self.skeleton = {p.split("/")[2] for p in laid if _under(p, ["/tmp"])}

    def apply(self, written: list[str] | None = None) -> None:
        """Lay it out in the (new) mount namespace; `written`: what the template's /tmp held,
        copied into the new one."""
        # Opened in the new namespace: a bind's source must be one of its own mounts.
        share_fds, keep_fds = _open(self.shared), _open(self.kept)
        map_fds = _open([s for s, _ in self.mapped])
        old = _open(["/tmp"], os.O_RDONLY)[0] if written else -1
        try:
            _check(_c().mount(b"tmpfs", b"/tmp", b"tmpfs", ctypes.c_ulong(MS_NOSUID | MS_NODEV),
                              self.tmp), "mount /tmp")
            # A share holding a hidden directory is bound before the cover (which hides that
            # directory in it again); one inside a hidden directory (~/data in the user's home)
            # after it, onto a mount point the cover holds.
            shares = list(zip(share_fds, self.shared))  # noqa: B905 (3.9: no strict)
            inside = [_under(path, self.hidden) for _, path in shares]
            for (fd, path), in_hidden in zip(shares, inside):  # noqa: B905
                if not in_hidden:
                    _bind(fd, path)
            covered = [r for r in self.hidden if os.path.isdir(r)]  # (a home under /tmp is
            for root in covered:  # gone, unless a share shows it again)
                _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, HIDDEN_SIZE)
            for (fd, path), in_hidden in zip(shares, inside):  # noqa: B905
                if in_hidden:
                    _bind(fd, path)
            # before what is kept: a kept directory inside a mapped one is bound over it (on a
            # mount point the mapped directory holds)
            for fd, (_, target) in zip(map_fds, self.mapped):  # noqa: B905 (3.9: no strict)
                _bind_read_only(fd, target)
            for fd, path in zip(keep_fds, self.kept):  # noqa: B905 (3.9: no strict)
                _bind_read_only(fd, path)
            for root in covered:  # its mount points made: nothing more to write there
                _mount(None, root, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
            if written:
                _copy_tmp(old, written)
        finally:
            for fd in [*share_fds, *keep_fds, *map_fds, *([old] if old >= 0 else [])]:
                os.close(fd)


_forks: _Layout | None = None  # a narrowed template's children's layout


def fs_rights(abi: int) -> int:
    """Every file system right the kernel's Landlock ABI knows."""
    rights = (1 << 13) - 1
    for since, right in ((2, FS_REFER), (3, FS_TRUNCATE), (5, FS_IOCTL_DEV)):
        if abi >= since:
            rights |= right
    return rights


def _around(roots: list[str], hidden: list[str]) -> list[str]:
    """`roots` with every hidden directory cut out: a root holding one is replaced by its
    entries (but the one on the way to it, which is cut in turn), so that rules beneath what
    is returned allow nothing beneath a hidden directory. Entries are what exists now."""
    out: list[str] = []
    pending = list(roots)
    while pending:
        root = pending.pop()
        if _under(root, hidden):
            continue
        if not any(_under(h, [root]) for h in hidden):
            out.append(root)
            continue
        try:
            names = os.listdir(root)
        except OSError:
            continue
        pending.extend(os.path.join(root, name) for name in names)
    return out


def _allow(ruleset: int, paths: list[str], rights: int) -> None:
    """Rules allowing `rights` beneath each path (its file rights alone, for a file). A path
    is opened without following a symbolic link: a rule on a link allows nothing beyond it,
    and a link pointing into a hidden directory stays a dead end. A path the kernel takes no
    rule for (gone meanwhile, an internal file system) stays out of reach: it fails closed."""
    c = _c()
    for path in paths:
        try:
            fd = os.open(path, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            is_dir = not os.path.islink(path) and os.path.isdir(path)
            rule = _PathBeneath(rights if is_dir else rights & FILE_RIGHTS, fd)
            if rule.allowed_access:
                c.syscall(SYS_LANDLOCK_ADD_RULE, ctypes.c_int(ruleset),
                          ctypes.c_int(LANDLOCK_RULE_PATH_BENEATH), ctypes.byref(rule),
                          ctypes.c_uint32(0))
        finally:
            os.close(fd)


# What the Landlock domains this process is in let it read, and write: where a nested domain
# starts from (it cannot list a directory its parent's domain cut, so it cuts again from here).
_readable: list[str] = ["/"]
_writable: list[str] | None = None  # None: not narrowed yet (then /tmp, /dev, the shares)


def landlock_narrow(spec: dict[str, Any]) -> None:
    """Without user namespaces: the same view with Landlock's file rules (Linux 5.13+,
    unprivileged), on the machine's own mounts. The hidden directories cannot be read (EACCES,
    where namespaces show them empty); what is kept can be read, not written; writes go only
    to /tmp (the machine's: no instance gets its own), /dev and the shared directories. The
    process keeps no capability, nor any way to gain one (no_new_privs, which Landlock needs):
    unlike in a namespace, a template has no use for them (it cannot mount a /tmp)."""
    global _readable, _writable
    abi = landlock_abi()
    if abi < 1:
        raise SandboxError(0, "neither user namespaces nor Landlock are available")
    # (one that is not there is not cut out, as a namespace covers only what is there)
    hidden = [os.path.realpath(p) for p in spec.get("hide", ()) if os.path.exists(p)]
    shared = [os.path.realpath(p) for p in spec.get("share", ()) if os.path.isdir(p)]
    kept = [p for p in (os.path.realpath(p) for p in [*spec.get("keep", ()),
                                                      *_kept(spec, hidden)]) if os.path.exists(p)]
    readable = _around(_readable, hidden) + kept
    if _writable is None:
        _writable = ["/tmp", "/dev", *shared]
    # (the home stays hidden inside a shared directory; one inside the home is shared)
    writable = _around(_writable, hidden) + [p for p in shared if _under(p, hidden)]
    handled = fs_rights(abi)
    c = _c()
    c.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    attr = _RulesetAttr(handled, 0, 0)  # (an older kernel takes the zeroed fields it lacks)
    fd = int(c.syscall(SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr),
                       ctypes.c_size_t(ctypes.sizeof(attr)), ctypes.c_uint32(0)))
    if fd < 0:
        _check(fd, "landlock_create_ruleset")
    try:
        _allow(fd, readable, READ_RIGHTS & handled)
        _allow(fd, writable, handled)
        _check(int(c.syscall(SYS_LANDLOCK_RESTRICT_SELF, fd, ctypes.c_uint32(0))),
               "landlock_restrict_self")
    finally:
        os.close(fd)
    _readable, _writable = readable, writable
    drop_privileges()
    confine()


def narrow(spec: dict[str, Any]) -> None:
    """Enter namespaces where only what `spec` keeps is visible (see the module's docstring).
    `spec`: hide, keep and share (directories), map ([source, target] pairs: source bound
    read-only at target, which a hidden directory holds), tmp_mb (/tmp's size); mode
    `landlock`: see landlock_narrow (which has no map: a spec of that mode has none)."""
    global _forks
    if spec.get("mode") == LANDLOCK:
        landlock_narrow(spec)
        return
    scope = [*(os.path.realpath(p) for p in spec.get("hide", ()) if os.path.isdir(p)), "/tmp"]
    cwd = os.path.realpath(os.getcwd())
    layout = _Layout(spec, scope)
    _new_namespaces()
    _mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing we mount leaks out, nor in
    layout.apply()
    _new_namespaces()  # locks every mount above (see the module's docstring)
    try:  # the old working directory is the hidden one, and writable: never stay there
        os.chdir(cwd)
    except OSError:
        os.chdir("/")
    _forks = _Layout(spec, ["/tmp"])
    for name in ("unshare", "mount", "prctl", "capset", "syscall"):  # looked up once, not per
        getattr(_c(), name)  # fork
    confine()


def fresh_tmp(spec: dict[str, Any]) -> None:
    """A process forked from a narrowed template: its own /tmp, holding a copy of what the
    template's init wrote there (what is kept or shared under /tmp, tests' homes, is laid out
    again)."""
    layout = _forks if _forks is not None else _Layout(spec, ["/tmp"])
    written = [n for n in os.listdir("/tmp") if n not in layout.skeleton]
    _check(_c().unshare(CLONE_NEWNS), "unshare")
    layout.apply(written)


def _copy_tmp(old: int, names: list[str]) -> None:
    import shutil

    for name in names:
        source = f"/proc/self/fd/{old}/{name}"
        if os.path.isdir(source) and not os.path.islink(source):
            shutil.copytree(source, f"/tmp/{name}", symlinks=True)
        else:
            shutil.copy2(source, f"/tmp/{name}", follow_symlinks=False)


def drop_privileges() -> None:
    """No capability left, none to be had again by exec (the uid inside may be 0: root's)."""
    c = _c()
    c.prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED, 0, 0, 0)
    c.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    _check(c.capset(_CAP_HEADER, _CAP_DATA), "capset")


def probe(mode: str = "") -> str:
    """The mode that works in this process (it changes it: run in a child): 'namespaces', else
    'landlock' (`mode` landlock: only that is tried), else 'none: why'; then, on a second line,
    whether signals and abstract sockets are scoped."""
    why = "asked for by ALOFT_SANDBOX=landlock"
    try:
        if mode == LANDLOCK:
            raise SandboxError(0, why)
        narrow({"hide": [], "tmp_mb": 1})
        drop_privileges()
        found = "namespaces"
    except (OSError, AttributeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        try:
            landlock_narrow({"hide": [], "keep": [], "share": []})
        except (OSError, AttributeError) as also:
            return f"none: {why}; Landlock: {also}"
        found = f"{LANDLOCK}: {why}"
    abi = landlock_abi()
    if abi >= SCOPE_ABI:
        return f"{found}\nscoped"
    return f"{found}\nnot scoped: Landlock ABI {abi}, scopes need {SCOPE_ABI} (Linux 6.12)"


SANDBOX_FAILED = 70  # `run`'s exit status when it cannot narrow (the module never runs)
SPEC_ENV = "ALOFT_SANDBOX_SPEC"  # `run`'s spec (protocol.SANDBOX_ENV, which instances read)


def run_narrowed(spec: dict[str, Any], module: str) -> None:
    """`python -S -m module` in this process, once narrowed by `spec` and without privileges.
    The module's code sees what an instance's sees: its code, layers and interpreter, not the
    user's home or the platform's files."""
    here = os.path.dirname(os.path.abspath(__file__))
    if sys.path and os.path.abspath(sys.path[0]) == here:
        del sys.path[0]  # (this directory's files must not shadow the function's modules)
    sys.path.insert(0, os.getcwd())  # as -m puts it
    try:
        narrow(spec)
        drop_privileges()
    except (OSError, AttributeError) as exc:
        sys.stderr.write(f"aloft: cannot isolate the function: {exc}\n")
        sys.stderr.flush()
        os._exit(SANDBOX_FAILED)
    import runpy

    del sys.argv[1:]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["probe"]:
        print(probe(*sys.argv[2:3]))
    elif sys.argv[1:2] == ["run"] and len(sys.argv) == 3:
        import json

        run_narrowed(json.loads(os.environ.pop(SPEC_ENV, "{}")), sys.argv[2])
