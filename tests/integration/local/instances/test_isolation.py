"""What a deployed function sees of the machine: only its code (read-only), its layer, its own
capped /tmp; nothing of $ALOFT_HOME, other functions' artifacts or the daemon's /proc."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path
from typing import Any

import pytest

from aloft.local.instances import isolation
from aloft.local.instances.pool import InstancePool
from aloft.local.instances.worker import sandbox
from tests.integration.local.cloud_helpers import Cloud, cloud_fixture, service, write_project
from tests.integration.local.dataplane_helpers import (
    LoopThread,
    RecordingSink,
    build_artifact,
    function_version,
)
from tests.isolation_required import no_isolation
from tests.waiting import wait_until

OUTCOMES = """
import errno
import os


def _outcome(action):
    try:
        action()
        return "ok"
    except OSError as exc:
        return errno.errorcode.get(exc.errno, str(exc.errno))


def _read(path):
    if os.path.isdir(path):
        os.listdir(path)
    else:
        with open(path, "rb") as fh:
            fh.read(1)
"""
"""What a probing function does: an action's outcome as an errno name ("ok" when it worked)."""

PROBE = textwrap.indent(OUTCOMES, "    ") + """
    STARTED_IN_TMP = "/tmp/written-at-init"
    with open(STARTED_IN_TMP, "w") as fh:  # init's /tmp is every instance's (a snapshot's)
        fh.write("init")


    def _write(path, size):
        with open(path, "wb") as fh:
            chunk = b"x" * (1 << 20)
            for _ in range(size >> 20):
                fh.write(chunk)


    def probe(event, context):
        root = os.environ["LAMBDA_TASK_ROOT"]
        tmp = os.statvfs("/tmp")
        result = {
            "read": {p: _outcome(lambda p=p: _read(p)) for p in event.get("read", [])},
            "own_code": sorted(os.listdir(root)),
            "write_code": _outcome(lambda: _write(os.path.join(root, "new.txt"), 0)),
            "write_tmp": _outcome(lambda: _write("/tmp/small", 1 << 20)),
            "write_hidden": {p: _outcome(lambda p=p: _write(os.path.join(p, "x"), 0))
                             for p in event.get("hidden", [])},
            "tmp_mb": tmp.f_blocks * tmp.f_frsize >> 20,
            "init_file": open(STARTED_IN_TMP).read(),
            "cwd": os.getcwd(),
        }
        if event.get("fill_tmp"):
            result["fill_tmp"] = _outcome(lambda: _write("/tmp/big", event["fill_tmp"] << 20))
            os.remove("/tmp/big")
        return result
"""

CONFIG = """
    service: {name}
    functions:
      probe:
        handler: probe.probe
        ephemeral_storage: {tmp}
    stages:
      dev: {{}}
"""

NOT_THERE = {"ENOENT", "EACCES", "EPERM"}


cloud = cloud_fixture()


def _no_landlock(abi: int, described: str) -> None:
    """Landlock (at `abi`) is not in force: a failure where the kernel offers it, else a skip."""
    if sandbox.landlock_abi() >= abi:
        pytest.fail(f"the kernel has Landlock ABI {sandbox.landlock_abi()} but: {described}")
    pytest.skip(f"no Landlock ABI {abi} on this kernel: {described}")


def _configure(mode: str, home: Path, artifacts: Path,
               monkeypatch: pytest.MonkeyPatch) -> isolation.Isolation:
    """Isolation of `mode` (namespaces, or landlock alone) configured for this test: a failure
    where the machine offers it and it is not in force, else a skip."""
    monkeypatch.setattr(isolation, "_current", isolation.current())  # restored after the test
    if mode == "landlock":
        monkeypatch.setenv("ALOFT_SANDBOX", "landlock")
    configured = isolation.configure(home, artifacts)
    if mode == "landlock" and configured.mode != isolation.LANDLOCK:
        _no_landlock(1, configured.describe())
    if mode == "namespaces" and configured.mode != isolation.NAMESPACES:
        no_isolation(configured.describe())
    return configured


def _isolated(cloud: Cloud) -> None:
    described = cloud.client.call("GET", "cloud")["isolation"]
    if not described.startswith(isolation.NAMESPACES):
        no_isolation(described)


def _deploy(cloud: Cloud, tmp_path: Path, name: str, tmp_mb: int = 512,
            extra: str = "") -> Any:
    root = write_project(tmp_path / name, CONFIG.format(name=name, tmp=tmp_mb),
                         {"probe.py": PROBE + extra})
    svc = service(root)
    cloud.provider.deploy(svc)
    return svc


def test_an_instance_sees_only_its_own_files(cloud: Cloud, tmp_path: Path) -> None:
    _isolated(cloud)
    other = _deploy(cloud, tmp_path, "other", extra="\n    OTHER = 1\n")
    svc = _deploy(cloud, tmp_path, "mine", tmp_mb=600)
    info = cloud.client.running()
    assert info is not None
    home = cloud.home
    unpacked = sorted(str(p) for p in (home / "artifacts" / "unpacked").iterdir())
    secrets = [home / "token", home / "aws" / "signing.key", home / "aws" / "snapshot.key",
               home / "state.db", home / "daemon.json", home / "artifacts"]
    paths = [str(p) for p in secrets] + unpacked + [
        f"/proc/{info.pid}/environ", f"/proc/{info.pid}/root/{home}", f"/proc/{info.pid}/cwd"]
    # the projects' sources (in the suite's shared directory: hidden as deployed projects)
    paths += [str(tmp_path / "mine" / "aloft.yml"), str(tmp_path / "other" / "probe.py")]
    out = cloud.provider.invoke(svc, "probe", {"read": paths, "fill_tmp": 601,
                                               "hidden": [str(home), str(home / "artifacts")]})
    assert out.error is None, out.logs
    result = out.payload
    own = result["cwd"]
    for path, outcome in result["read"].items():
        if own.startswith(path.rstrip("/") + "/") or path == own:
            continue  # its own code (and the directories on the way to it)
        assert outcome in NOT_THERE, f"{path} is readable from a function: {outcome}"
    assert "probe.py" in result["own_code"]
    assert result["write_code"] == "EROFS"
    assert set(result["write_hidden"].values()) == {"EROFS"}  # not even a scratch file
    assert result["write_tmp"] == "ok"
    assert result["tmp_mb"] == 600
    assert result["fill_tmp"] == "ENOSPC"
    assert result["init_file"] == "init"
    assert other.service == "other"  # deployed: its artifact is among the unreadable ones


ZYGOTE_FNS = """
import os
import dep


def look(event, context):
    def outcome(path):
        try:
            with open(path, "rb") as fh:
                fh.read(1)
            return "ok"
        except OSError as exc:
            return type(exc).__name__
    return {"dep_loaded_by": dep.LOADED_BY,
            "read": {p: outcome(p) for p in event["read"]}}
"""


def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """Isolation configured (for this test) for a home holding a secret (`token`) and its
    artifact store: (home, artifacts)."""
    home = tmp_path / "home"
    artifacts = home / "artifacts"
    artifacts.mkdir(parents=True)
    (home / "token").write_text("secret")
    monkeypatch.setattr(isolation, "_current", isolation.current())  # restored after the test
    if not isolation.configure(home, artifacts).active:
        no_isolation(isolation.current().describe())
    return home, artifacts


def test_a_template_forked_from_a_zygote_is_narrowed_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The zygote keeps the artifacts (its templates' code is there) but not the home's
    secrets; the template it forks keeps only its own code and layer."""
    home, artifacts = isolated_home(tmp_path, monkeypatch)
    layer = artifacts / "layer"
    layer.mkdir()
    (layer / "dep.py").write_text("import os\nLOADED_BY = os.getpid()\n")
    other = build_artifact(artifacts / "other", {"secret_code.py": "X = 1\n"}, {})
    loop = LoopThread()
    pool = InstancePool(RecordingSink())
    try:
        fvs = [function_version(build_artifact(artifacts / f"code{n}", {"fns.py": ZYGOTE_FNS},
                                               {"look": "fns.look"}),
                                "look", version=n, layer_dir=layer) for n in (1, 2)]
        event = {"read": [str(home / "token"), str(other / "secret_code.py"),
                          str(fvs[0].code_dir / "fns.py"), str(layer / "dep.py")]}
        first = loop.run(pool.invoke(fvs[0], json.dumps(event).encode()))
        assert first.status == "ok", first.payload
        wait_until(lambda: any(z.ready.done() and z.alive
                               for z in pool.templates._zygotes.values()),
                   timeout=10, interval=0.02, message="a ready zygote")
        second = loop.run(pool.invoke(fvs[1], json.dumps(event).encode()))
        assert second.status == "ok", second.payload
        zygote_pid = next(iter(pool.templates._zygotes.values())).watch.proc.pid
        seen = json.loads(second.payload)
        assert seen["dep_loaded_by"] == zygote_pid  # forked from the zygote
        token, other_code, v1_code, dep = event["read"]
        assert seen["read"][token] == "FileNotFoundError"
        assert seen["read"][other_code] == "FileNotFoundError"
        assert seen["read"][v1_code] == "FileNotFoundError"  # another version's code
        assert seen["read"][dep] == "ok"
        assert json.loads(first.payload)["read"][token] == "FileNotFoundError"
    finally:
        loop.run(pool.close())
        loop.close()


TMP_FNS = """
import os

with open("/tmp/from-init", "w") as fh:
    fh.write("init")


def touch(event, context):
    seen = sorted(os.listdir("/tmp"))
    with open(f"/tmp/by-{os.getpid()}", "w") as fh:
        fh.write("x")
    return {"pid": os.getpid(), "seen": seen}
"""


def test_each_instance_has_its_own_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An instance forked from a template starts with what the template's init wrote in /tmp,
    never with what another instance wrote; an instance's /tmp goes with it."""
    home = tmp_path / "home"
    (home / "artifacts").mkdir(parents=True)
    monkeypatch.setattr(isolation, "_current", isolation.current())
    if not isolation.configure(home, home / "artifacts").active:
        no_isolation(isolation.current().describe())
    fv = function_version(build_artifact(home / "artifacts" / "code", {"fns.py": TMP_FNS},
                                         {"touch": "fns.touch"}), "touch")
    loop = LoopThread()
    pool = InstancePool(RecordingSink())
    try:
        first = json.loads(loop.run(pool.invoke(fv, b"{}")).payload)
        again = json.loads(loop.run(pool.invoke(fv, b"{}")).payload)
        assert again["pid"] == first["pid"]  # the same warm instance keeps its /tmp
        assert f"by-{first['pid']}" in again["seen"]
        loop.call(lambda: pool.drop_idle(fv.function))
        other = json.loads(loop.run(pool.invoke(fv, b"{}")).payload)
        assert other["pid"] != first["pid"]
        assert "from-init" in first["seen"] and "from-init" in other["seen"]
        assert not [name for name in other["seen"] if name.startswith("by-")]
    finally:
        loop.run(pool.close())
        loop.close()


NOBODY = """
import importlib.util, json, os, sys
spec = importlib.util.spec_from_file_location("sandbox", sys.argv[1])
sandbox = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sandbox)
home, code = sys.argv[2], sys.argv[3]
os.chdir(code)
sandbox.narrow({"hide": [home], "keep": [code], "tmp_mb": 1})
sandbox.drop_privileges()
out = {"uid": os.getuid()}
for name, path in (("token", os.path.join(home, "token")), ("code", "app.py")):
    try:
        open(path).read()
        out[name] = "ok"
    except OSError as exc:
        out[name] = type(exc).__name__
try:
    open("app.py", "a").write("x")
    out["write"] = "ok"
except OSError as exc:
    out["write"] = type(exc).__name__
print(json.dumps(out))
"""


def test_an_unprivileged_user_narrows_too() -> None:
    """The daemon need not run as root: a plain user's process narrows its view the same way
    (run as `nobody`, where this machine lets the tests switch users)."""
    import os
    import shutil
    import tempfile

    python, setpriv = Path("/usr/bin/python3"), shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None or not python.exists():
        pytest.skip("needs root, setpriv and /usr/bin/python3 to run a process as nobody")
    tmp_path = Path(tempfile.mkdtemp(prefix="aloft-nobody-"))  # (pytest's is root's alone)
    try:
        _as_nobody(tmp_path, Path(setpriv), python)
    finally:
        shutil.rmtree(tmp_path, ignore_errors=True)


def _as_nobody(tmp_path: Path, setpriv: Path, python: Path) -> None:
    import os
    import shutil
    import subprocess

    home = tmp_path / "nobody-home"
    code = home / "artifacts" / "code"
    code.mkdir(parents=True)
    (home / "token").write_text("secret")
    (code / "app.py").write_text("X = 1\n")
    worker = tmp_path / "sandbox.py"
    shutil.copy(isolation.SANDBOX_MAIN, worker)
    for path in [tmp_path, worker, *home.rglob("*"), home]:
        os.chown(path, 65534, 65534)
    done = subprocess.run(
        [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", str(python), "-S", "-c",
         NOBODY, str(worker), str(home), str(code)],
        capture_output=True, text=True, timeout=60, check=False, cwd="/")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"uid": 65534, "token": "FileNotFoundError",
                                       "code": "ok", "write": "OSError"}


def _two_versions(artifacts: Path, start: str, source: str, name: str) -> list[Any]:
    """Versions 1 and 2 of a function `fns.<name>` in `source`, started as `start` says:
    forked from a template, fresh (no snapshot), or (zygote, declined) with a layer, so that
    version 2's template (declined: version 1's next instance) is forked from the layer's
    zygote that version 1 started."""
    layer = None
    if start in ("zygote", "declined"):
        layer = artifacts / "layer"
        layer.mkdir()
        (layer / "dep.py").write_text("X = 1\n")
    return [function_version(build_artifact(artifacts / f"code{n}", {"fns.py": source},
                                            {name: f"fns.{name}"}),
                             name, version=n, snapshot=start != "fresh", layer_dir=layer)
            for n in (1, 2)]


def _invoke_as(start: str, loop: LoopThread, pool: InstancePool, fvs: list[Any],
               event: dict[str, Any]) -> Any:
    """The function's answer to `event`; with `zygote`, version 2's (version 1 first, then a
    wait for the zygote it started); `declined`: version 1's second instance (its first one
    gone)."""
    fv = fvs[0]
    if start in ("zygote", "declined"):
        assert loop.run(pool.invoke(fv, json.dumps(event).encode())).status == "ok"
        wait_until(lambda: any(z.ready.done() and z.alive
                               for z in pool.templates._zygotes.values()),
                   timeout=10, interval=0.02, message="a ready zygote")
        if start == "zygote":
            fv = fvs[1]
        else:
            loop.call(lambda: pool.drop_idle(fv.function))
    result = loop.run(pool.invoke(fv, json.dumps(event).encode()))
    assert result.status == "ok", result.payload
    return json.loads(result.payload)


SIGNAL_FNS = OUTCOMES + """
import signal
import socket
import subprocess


def _connect(name):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(name)


def poke(event, context):
    child = subprocess.Popen(["sleep", "30"])
    own = _outcome(lambda: os.kill(child.pid, signal.SIGKILL))
    child.wait()
    return {
        "pids": {name: _outcome(lambda pid=pid: os.kill(pid, signal.SIGTERM))
                 for name, pid in event["pids"].items()},
        "parent": _outcome(lambda: os.kill(os.getppid(), signal.SIGTERM)),
        "ppid": os.getppid(),
        "own_child": [own, child.returncode],
        "abstract": _outcome(lambda: _connect(event["abstract"])),
    }
"""


@pytest.mark.parametrize("start", ["forked", "fresh", "zygote", "declined"])
def test_a_function_cannot_signal_other_processes(
    start: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hostile function cannot kill the daemon, the user's other processes, its template or
    its layer's zygote (its parent, when its template declined), nor reach their abstract Unix
    sockets; it still kills its own children (`subprocess`'s timeouts need that)."""
    import signal
    import socket
    import subprocess

    _home, artifacts = isolated_home(tmp_path, monkeypatch)
    if "confined (Landlock)" not in isolation.current().detail:
        _no_landlock(sandbox.SCOPE_ABI, isolation.current().detail)
    database = socket.create_server(("127.0.0.1", 0))  # what a declining init connects to
    source = SIGNAL_FNS
    if start == "declined":
        source += f"\n_db = socket.create_connection(('127.0.0.1', {database.getsockname()[1]}))\n"
    fvs = _two_versions(artifacts, start, source, "poke")
    bystander = subprocess.Popen(["sleep", "60"])
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    abstract = f"\0aloft-test-{os.getpid()}-{start}"
    listener.bind(abstract)
    listener.listen(1)
    previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a failure must not stop pytest
    loop = LoopThread()
    pool = InstancePool(RecordingSink())
    try:
        pids = {"daemon": os.getpid(), "bystander": bystander.pid}
        event = {"pids": pids, "abstract": abstract}
        if start in ("zygote", "declined"):  # started by version 1's template, asked for
            assert loop.run(pool.invoke(fvs[0], json.dumps(event).encode())).status == "ok"
            wait_until(lambda: bool(pool.templates._zygotes), message="the layer's zygote")
            pids["zygote"] = next(iter(pool.templates._zygotes.values())).watch.proc.pid
        seen = _invoke_as(start, loop, pool, fvs, event)
        if start == "declined":  # an instance the zygote forked
            assert seen["ppid"] == pids["zygote"]
        assert seen["pids"] == {name: "EPERM" for name in pids}
        assert seen["parent"] == "EPERM"  # its template (a fresh instance's: the daemon)
        assert seen["own_child"] == ["ok", -signal.SIGKILL]
        assert seen["abstract"] == "EPERM"
        assert bystander.poll() is None
    finally:
        signal.signal(signal.SIGTERM, previous)
        loop.run(pool.close())
        loop.close()
        listener.close()
        database.close()
        bystander.kill()
        bystander.wait()


LANDLOCK_FNS = OUTCOMES + """
with open("/tmp/aloft-landlock-init", "w") as fh:  # init writes to /tmp (the machine's here)
    fh.write("init")


def _write(path):
    with open(path, "w") as fh:
        fh.write("x")


def look(event, context):
    return {
        "read": {p: _outcome(lambda p=p: _read(p)) for p in event["read"]},
        "write": {p: _outcome(lambda p=p: _write(p)) for p in event["write"]},
        "daemon": _outcome(lambda: os.kill(event["daemon"], 0)),
    }
"""


@pytest.mark.parametrize("start", ["forked", "fresh", "zygote"])
def test_without_user_namespaces_landlock_hides_the_platform(
    start: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where user namespaces are off (Ubuntu 24.04's default AppArmor rule), Landlock's file
    rules keep the home's secrets and other functions' code unreadable, the code read-only and
    writes to /tmp (ALOFT_SANDBOX=landlock asks for that mode where namespaces would work).
    The home is outside /tmp, as ~/.aloft is: Landlock cannot allow creating files in /tmp
    and deny a directory beneath it."""
    import shutil
    import tempfile

    outside = Path(tempfile.mkdtemp(prefix="aloft-landlock-", dir="/var/tmp"))
    home = outside / "home"
    artifacts = home / "artifacts"
    artifacts.mkdir(parents=True)
    (home / "token").write_text("secret")
    (outside / "link").symlink_to(home / "token")  # a way round, beside the home
    monkeypatch.setattr(isolation, "_current", isolation.current())
    monkeypatch.setenv("ALOFT_SANDBOX", "landlock")
    (outside / "shared").mkdir()
    monkeypatch.setenv("ALOFT_SANDBOX_SHARE", str(outside))  # shared, and the home inside it
    configured = isolation.configure(home, artifacts)
    if configured.mode != isolation.LANDLOCK:
        _no_landlock(1, configured.describe())
    other = build_artifact(artifacts / "other", {"secret_code.py": "X = 1\n"}, {})
    fvs = _two_versions(artifacts, start, LANDLOCK_FNS, "look")
    code = fvs[1 if start == "zygote" else 0].code_dir
    scratch = Path("/tmp") / f"aloft-landlock-{os.getpid()}-{start}"
    event = {"read": [str(home / "token"), str(other / "secret_code.py"), str(home),
                      f"/proc/{os.getpid()}/environ", str(outside / "link"),
                      str(code / "fns.py"), "/usr/bin"],
             "write": [str(code / "new.py"), str(home / "dropped"), str(scratch),
                       str(outside / "shared" / "written")],
             "daemon": os.getpid()}
    loop = LoopThread()
    pool = InstancePool(RecordingSink())
    try:
        seen = _invoke_as(start, loop, pool, fvs, event)
        token, other_code, home_dir, environ, link, own, usr = event["read"]
        assert seen["read"] == {token: "EACCES", other_code: "EACCES", home_dir: "EACCES",
                                environ: "EACCES", link: "EACCES", own: "ok", usr: "ok"}
        own_new, dropped, tmp_file, shared = event["write"]
        assert seen["write"] == {own_new: "EACCES", dropped: "EACCES", tmp_file: "ok",
                                 shared: "ok"}
        assert seen["daemon"] == "EPERM"
        assert scratch.read_text() == "x"
        assert not (home / "dropped").exists()
    finally:
        loop.run(pool.close())
        loop.close()
        scratch.unlink(missing_ok=True)
        shutil.rmtree(outside, ignore_errors=True)


@pytest.mark.parametrize(("mode", "start"), [("namespaces", "forked"), ("namespaces", "zygote"),
                                             ("landlock", "fresh"), ("landlock", "zygote")])
def test_the_users_home_is_hidden_but_what_a_function_needs_from_it(
    mode: str, start: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A function sees nothing of the user's home directory: not another project's `.env`,
    not an SSH key, not the home's listing. What it needs from there stays: its code and
    layer (the artifact store lies in the home, as ~/.aloft does) and a shared directory
    there. The home is outside /tmp (a function's /tmp is its own anyway)."""
    import shutil
    import tempfile

    user = Path(tempfile.mkdtemp(prefix="aloft-user-home-", dir="/var/tmp"))
    env_file = user / "projects" / "shop" / ".env"
    env_file.parent.mkdir(parents=True)
    env_file.write_text("STRIPE_KEY=sk_live_secret\n")
    key = user / ".ssh" / "id_ed25519"
    key.parent.mkdir()
    key.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    home = user / ".aloft"
    artifacts = home / "artifacts"
    artifacts.mkdir(parents=True)
    shared = user / "efs"
    shared.mkdir()
    monkeypatch.setenv("HOME", str(user))
    monkeypatch.setenv("ALOFT_SANDBOX_SHARE", str(shared))
    configured = _configure(mode, home, artifacts, monkeypatch)
    assert str(user.resolve()) in configured.hide
    fvs = _two_versions(artifacts, start, LANDLOCK_FNS, "look")
    code = fvs[1 if start == "zygote" else 0].code_dir
    event = {"read": [str(env_file), str(key), str(user), str(user / "projects"),
                      str(code / "fns.py"), str(shared)],
             "write": [str(user / "dropped"), str(shared / "written")],
             "daemon": os.getpid()}
    loop = LoopThread()
    pool = InstancePool(RecordingSink())
    try:
        seen = _invoke_as(start, loop, pool, fvs, event)
        env_seen, key_seen, home_seen, projects, own, shared_seen = event["read"]
        for secret in (env_seen, key_seen, projects):
            assert seen["read"][secret] in NOT_THERE, f"{secret}: {seen['read'][secret]}"
        # namespaces: the home is an empty directory (but for what is bound back into it)
        if mode == "namespaces":
            assert seen["read"][home_seen] == "ok"
        else:
            assert seen["read"][home_seen] == "EACCES"
        assert seen["read"][own] == "ok"
        assert seen["read"][shared_seen] == "ok"
        dropped, written = event["write"]
        assert seen["write"][dropped] in {"EROFS", "EACCES"}
        assert seen["write"][written] == "ok"
        assert (shared / "written").read_text() == "x"
        assert not (user / "dropped").exists()
    finally:
        loop.run(pool.close())
        loop.close()
        shutil.rmtree(user, ignore_errors=True)


@pytest.mark.parametrize("start", ["forked", "fresh", "zygote"])
@pytest.mark.parametrize("mode", ["namespaces", "landlock"])
def test_deployed_projects_are_hidden_wherever_they_are(
    mode: str, start: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A function sees its build, not the project it was built from, nor another deployed
    project, outside the home too (/srv/shop, here in /var/tmp): not their sources, not
    their `.env`. A project deployed after a layer's zygote started is hidden from the
    templates it forks later. A project holding a system directory is not hidden."""
    import shutil
    import tempfile

    srv = Path(tempfile.mkdtemp(prefix="aloft-srv-", dir="/var/tmp"))
    home = srv / "cloud"
    artifacts = home / "artifacts"
    artifacts.mkdir(parents=True)
    secrets = {}
    for name in ("shop", "later"):
        (srv / name).mkdir()
        (srv / name / ".env").write_text(f"{name.upper()}_KEY=secret\n")
        (srv / name / "fns.py").write_text("X = 1\n")
        secrets[name] = [str(srv / name / ".env"), str(srv / name / "fns.py")]
    _configure(mode, home, artifacts, monkeypatch)
    shop = str((srv / "shop").resolve())
    assert isolation.hide_projects(["/", "/usr", str(srv / "shop"), str(srv / "gone")]) == (shop,)
    assert isolation.hide_projects([srv / "shop"]) == ()  # hidden already
    assert isolation.current().projects == (shop,)
    fvs = _two_versions(artifacts, start, LANDLOCK_FNS, "look")
    code = fvs[1 if start == "zygote" else 0].code_dir
    event = {"read": [*secrets["shop"], *secrets["later"], str(code / "fns.py")], "write": [],
             "daemon": os.getpid()}
    loop = LoopThread()
    pool = InstancePool(RecordingSink())
    try:
        if start == "zygote":  # version 1 starts the zygote before `later` is deployed
            assert loop.run(pool.invoke(fvs[0], json.dumps(event).encode())).status == "ok"
            wait_until(lambda: any(z.ready.done() and z.alive
                                   for z in pool.templates._zygotes.values()),
                       timeout=10, interval=0.02, message="a ready zygote")
        isolation.hide_projects([srv / "later"])
        result = loop.run(pool.invoke(fvs[1 if start == "zygote" else 0],
                                      json.dumps(event).encode()))
        assert result.status == "ok", result.payload
        seen = json.loads(result.payload)["read"]
        for path in [*secrets["shop"], *secrets["later"]]:
            assert seen[path] in NOT_THERE, f"{path} is readable from a function: {seen[path]}"
        assert seen[str(code / "fns.py")] == "ok"
    finally:
        loop.run(pool.close())
        loop.close()
        shutil.rmtree(srv, ignore_errors=True)


def _stopped(pid: int) -> bool:
    """The process has exited (a zombie until reaped, or gone)."""
    try:
        return "Z" in Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:  # gone (also between an open and a read)
        return True


RENARROW_FNS = OUTCOMES + """
import time


def look(event, context):
    time.sleep(event.get("sleep", 0))
    return {"pid": os.getpid(), "read": {p: _outcome(lambda p=p: _read(p)) for p in event["read"]}}
"""


def test_processes_started_before_a_project_was_hidden_are_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A project deployed while other functions' instances run: they saw it, so the pool
    replaces them (renarrow): the idle ones at once, a busy one once it has answered (its
    request succeeds), their template with them; the next request starts a process that
    cannot read the project."""
    import shutil
    import tempfile

    _, artifacts = isolated_home(tmp_path, monkeypatch)
    srv = Path(tempfile.mkdtemp(prefix="aloft-srv-", dir="/var/tmp"))
    secret = srv / "shop" / ".env"
    secret.parent.mkdir()
    secret.write_text("STRIPE_KEY=sk_live_secret\n")
    fv = function_version(build_artifact(artifacts / "code", {"fns.py": RENARROW_FNS},
                                         {"look": "fns.look"}), "look")
    loop = LoopThread()
    pool = InstancePool(RecordingSink())

    def invoke(**event: Any) -> Any:
        result = loop.run(pool.invoke(fv, json.dumps({"read": [str(secret)], **event}).encode()))
        assert result.status == "ok", result.payload
        return json.loads(result.payload)

    try:
        before = invoke()
        assert before["read"][str(secret)] == "ok"  # not a deployed project yet
        busy = loop.submit(pool.invoke(fv, json.dumps({"read": [], "sleep": 1.5}).encode()))
        wait_until(lambda: loop.call(lambda: len(pool._busy)) == 1, timeout=10, interval=0.01,
                   message="the first instance busy")
        idle = invoke()["pid"]  # a second instance, forked from the template
        assert loop.call(lambda: pool.instances().get(fv.function, 0)) == 2
        assert isolation.hide_projects([srv / "shop"])
        assert loop.call(pool.renarrow) == 3  # two instances and their template
        answered = json.loads(busy.result(timeout=10).payload)
        assert answered["read"] == {}  # the busy one finished its request
        after = invoke()
        assert after["read"][str(secret)] in NOT_THERE
        assert after["pid"] not in {before["pid"], idle, answered["pid"]}
        for pid in {before["pid"], idle, answered["pid"]}:
            wait_until(lambda pid=pid: _stopped(pid), timeout=10, interval=0.02,
                       message=f"instance {pid} to stop")
    finally:
        loop.run(pool.close())
        loop.close()
        shutil.rmtree(srv, ignore_errors=True)


def test_a_layers_zygote_started_before_a_project_was_hidden_is_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A layer's zygote runs the layer's import-time code and saw a project deployed after it
    started: renarrow retires it. It forks nothing more, and stops once what it forked is gone
    (a busy request through a template it forked succeeds first); a new zygote of the layer
    starts in its place at once, and cannot read the project."""
    import shutil
    import tempfile

    _, artifacts = isolated_home(tmp_path, monkeypatch)
    srv = Path(tempfile.mkdtemp(prefix="aloft-srv-", dir="/var/tmp"))
    secret = srv / "shop" / ".env"
    secret.parent.mkdir()
    secret.write_text("STRIPE_KEY=sk_live_secret\n")
    fvs = _two_versions(artifacts, "zygote", RENARROW_FNS, "look")
    loop = LoopThread()
    pool = InstancePool(RecordingSink())

    def zygote_pid() -> int | None:
        return loop.call(lambda: next((z.watch.proc.pid for z in pool.templates._zygotes.values()
                                       if z.alive and z.ready.done()), None))

    def sees(pid: int) -> bool:  # through the process's own mounts (namespaces)
        return Path(f"/proc/{pid}/root{secret}").exists()

    def invoke(fv: Any, **event: Any) -> Any:
        result = loop.run(pool.invoke(fv, json.dumps({"read": [str(secret)], **event}).encode()))
        assert result.status == "ok", result.payload
        return json.loads(result.payload)

    try:
        assert invoke(fvs[0])["read"][str(secret)] == "ok"  # not a deployed project yet
        wait_until(lambda: zygote_pid() is not None, timeout=10, interval=0.02,
                   message="the layer's zygote ready")
        old = zygote_pid()
        assert old is not None
        namespaces = isolation.current().mode == isolation.NAMESPACES
        if namespaces:
            assert sees(old)
        # version 2's template is the zygote's fork; its instance is busy through the renarrow
        busy = loop.submit(pool.invoke(fvs[1], json.dumps({"read": [], "sleep": 1.5}).encode()))
        wait_until(lambda: loop.call(lambda: len(pool._busy)) == 1, timeout=10, interval=0.01,
                   message="version 2's instance busy")
        assert isolation.hide_projects([srv / "shop"])
        assert loop.call(pool.renarrow) >= 3  # the instances, the templates, the zygote
        assert loop.call(lambda: pool.templates.retiring)  # it waits for version 2's request
        assert not _stopped(old)
        wait_until(lambda: zygote_pid() not in (None, old), timeout=10, interval=0.02,
                   message="a new zygote of the layer, in the old one's place")
        new = zygote_pid()
        assert new is not None
        if namespaces:
            assert not sees(new)
        assert json.loads(busy.result(timeout=10).payload)["read"] == {}
        wait_until(lambda: _stopped(old), timeout=10, interval=0.02,
                   message="the retired zygote to stop")
        assert not loop.call(lambda: pool.templates.retiring)
        assert invoke(fvs[1])["read"][str(secret)] in NOT_THERE
        assert zygote_pid() == new
    finally:
        loop.run(pool.close())
        loop.close()
        shutil.rmtree(srv, ignore_errors=True)


PROJECT_FNS = """
import errno


def look(event, context):
    out = {}
    for path in event["read"]:
        try:
            with open(path) as fh:
                out[path] = "read " + fh.read()
        except OSError as exc:
            out[path] = errno.errorcode.get(exc.errno, str(exc.errno))
    return out
"""


def test_a_deployed_project_stays_hidden_after_the_cloud_restarts(
    cloud: Cloud, tmp_path: Path
) -> None:
    """A project deployed from outside the home (/srv/shop, here in /var/tmp): its function
    reads its own code, not the project's `.env` or sources, before and after the local cloud
    restarts (the daemon learns deployed projects from its state); the deploy warns of an
    environment value naming a file in the project, as it would of one in the home."""
    import shutil
    import tempfile

    _isolated(cloud)
    srv = Path(tempfile.mkdtemp(prefix="aloft-srv-", dir="/var/tmp"))
    try:
        root = write_project(srv / "shop", """
            service: shop
            functions:
              look:
                handler: fns.look
                environment:
                  PRICES: {prices}
            stages:
              dev: {{}}
        """.format(prices=srv / "shop" / "prices.csv"), {"fns.py": PROJECT_FNS})
        (root / ".env").write_text("STRIPE_KEY=sk_live_secret\n")
        (root / "prices.csv").write_text("apple,1\n")
        svc = service(root)
        result = cloud.provider.deploy(svc)
        assert [w for w in result.warnings if "cannot see" in w and "PRICES" in w], \
            result.warnings
        event = {"read": [str(root / ".env"), str(root / "fns.py"), "fns.py"]}
        for when in ("deployed", "restarted"):
            if when == "restarted":
                cloud.stop()
                cloud.start()
            out = cloud.provider.invoke(svc, "look", event)
            assert out.error is None, out.logs
            seen = out.payload
            assert seen[str(root / ".env")] in NOT_THERE, (when, seen)
            assert seen[str(root / "fns.py")] in NOT_THERE, (when, seen)
            assert seen["fns.py"].startswith("read \nimport errno"), (when, seen)
    finally:
        shutil.rmtree(srv, ignore_errors=True)


UNSEEN_CONFIG = """
    service: {name}
    environment:
      DATABASE_URL: sqlite:///{hidden}
      REPORTS: {shared}
      LOCAL_DB: sqlite:///dev.db
      SCRATCH: /tmp/scratch
    functions:
      probe:
        handler: probe.probe
    stages:
      dev: {{}}
"""


def test_a_deploy_warns_of_environment_paths_its_functions_cannot_see(
    cloud: Cloud, tmp_path: Path
) -> None:
    """An environment value naming a file the functions cannot see (here in the local cloud's
    own home; in a user's, the home directory) gets a warning at deploy, saying what and how
    to share it; one they can see (a shared directory), a relative one, and /tmp, do not."""
    _isolated(cloud)
    hidden = cloud.home / "dev.db"
    hidden.write_text("")
    shared = tmp_path / "reports"  # the suite shares its temporary directory
    shared.mkdir()
    root = write_project(tmp_path / "unseen",
                         UNSEEN_CONFIG.format(name="unseen", hidden=hidden, shared=shared),
                         {"probe.py": PROBE})
    svc = service(root)
    result = cloud.provider.deploy(svc)
    unseen = [w for w in result.warnings if "cannot see" in w]
    assert len(unseen) == 1, result.warnings
    assert f"environment DATABASE_URL names {hidden.resolve()}" in unseen[0]
    assert f"ALOFT_SANDBOX_SHARE={hidden.resolve().parent} aloft deploy" in unseen[0]
    out = cloud.provider.invoke(svc, "probe", {"read": [str(hidden), str(shared)]})
    assert out.error is None, out.logs
    assert out.payload["read"][str(hidden)] in NOT_THERE  # what the warning said
    assert out.payload["read"][str(shared)] == "ok"


CMDLINE_FNS = """
import os


def look(event, context):
    shown = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as fh:
                    argv = fh.read().decode(errors="replace")
            except OSError:
                continue
            if '"hide"' in argv or '"tmp_mb"' in argv:
                shown.append(argv.replace("\\0", " "))
    with open("/proc/self/environ", "rb") as fh:
        own = fh.read().decode(errors="replace")
    return {"shown": shown, "spec_in_env": "ALOFT_SANDBOX_SPEC" in os.environ,
            "in_own_environ": "ALOFT_SANDBOX_SPEC" in own}
"""


@pytest.mark.parametrize("start", ["forked", "fresh", "zygote"])
def test_no_process_shows_its_isolation_spec_to_others(
    start: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a template, zygote or instance hides and keeps (its isolation spec) is not in its
    command line, which every process on the machine can read (`ps`), functions included;
    and the function does not find it in its environment."""
    _, artifacts = isolated_home(tmp_path, monkeypatch)
    fvs = _two_versions(artifacts, start, CMDLINE_FNS, "look")
    loop = LoopThread()
    pool = InstancePool(RecordingSink())
    try:
        seen = _invoke_as(start, loop, pool, fvs, {})
        assert seen["shown"] == []
        assert seen["spec_in_env"] is False
        if start == "fresh":  # its process was started with it: in its own first environment,
            assert seen["in_own_environ"] is True  # which only it may read
    finally:
        loop.run(pool.close())
        loop.close()
