from __future__ import annotations

import os
import threading
import zipfile
from pathlib import Path

from aloft.package import Target, build, default_unpack_root, unpack
from aloft.package.cache import BuildCache
from tests.unit.package.package_fakes import FakePip, make_service

AWS = Target("aws", "3.11", "manylinux2014_x86_64")


def test_second_build_reuses_the_layer_without_pip(project: Path, cache_dir: Path) -> None:
    (project / "requirements.txt").write_text("flask==3.0.0\nclick==8.1.7\n")
    pip = FakePip()
    service = make_service(project)
    first = build(service, cache_dir=cache_dir, pip=pip)
    second = build(service, cache_dir=cache_dir, pip=pip)
    assert len(pip.calls) == 1
    assert (first.cached_layer, second.cached_layer) == (False, True)
    assert first.layer is not None and first.layer == second.layer
    assert [p.name for p in second.packages] == [p.name for p in first.packages]


def test_the_key_covers_requirements_target_and_included_files(
    project: Path, cache_dir: Path
) -> None:
    (project / "requirements.txt").write_text("flask==3.0.0\n-c constraints.txt\n")
    (project / "constraints.txt").write_text("click<9\n")
    pip = FakePip()
    service = make_service(project)
    build(service, cache_dir=cache_dir, pip=pip)
    build(service, cache_dir=cache_dir, pip=pip, target=AWS)  # another target: miss
    build(service, cache_dir=cache_dir, pip=pip, target=AWS)  # hit
    (project / "constraints.txt").write_text("click<8.2\n")  # content pip reads changed: miss
    build(service, cache_dir=cache_dir, pip=pip, target=AWS)
    (project / "requirements.txt").write_text("flask==3.0.1\n")  # miss
    build(service, cache_dir=cache_dir, pip=pip, target=AWS)
    (project / "app.py").write_text("changed = True\n")  # code only: hit
    build(service, cache_dir=cache_dir, pip=pip, target=AWS)
    assert len(pip.calls) == 4
    assert "--platform" in pip.calls[1] and "--only-binary=:all:" in pip.calls[1]
    assert "--platform" not in pip.calls[0]


def test_cached_layer_unpacks_without_extracting(project: Path, cache_dir: Path) -> None:
    (project / "requirements.txt").write_text("flask==3.0.0\n")
    manifest = build(make_service(project), cache_dir=cache_dir, pip=FakePip())
    assert manifest.layer is not None
    tree = default_unpack_root(cache_dir) / manifest.layer.sha256
    assert (tree / "python" / "flask" / "__init__.py").is_file()
    marker = tree / "marker"
    marker.write_text("pre-populated")
    assert unpack(manifest.layer.path, default_unpack_root(cache_dir)) == tree
    assert marker.exists()  # reused, not re-extracted


def test_layer_is_tidied_and_measured(project: Path, cache_dir: Path) -> None:
    (project / "requirements.txt").write_text("big==1.0\nsmall==1.0\nboto3==1.34.0\n")
    pip = FakePip(sizes={"big": 5000, "small": 10, "boto3": 300})
    local = build(make_service(project), cache_dir=cache_dir, pip=pip)
    aws = build(make_service(project), cache_dir=cache_dir, pip=pip, target=AWS,
                out_dir=project / "out-aws")
    assert [p.name for p in local.packages] == ["big", "boto3", "small"]
    assert local.packages[0].bytes > 5000  # module plus its dist-info
    assert local.layer is not None and aws.layer is not None
    with zipfile.ZipFile(local.layer.path) as zf:
        names = zf.namelist()
    assert all(n.startswith("python/") for n in names)
    assert "python/big-1.0.dist-info/METADATA" in names
    assert not any(n.endswith(".pyc") or "/bin/" in n for n in names)
    # The project pins boto3: shipped to aws too (on Lambda a shipped boto3 wins).
    assert [p.name for p in aws.packages] == ["big", "boto3", "small"]


def test_an_unpinned_boto3_is_left_to_lambdas_runtime(project: Path, cache_dir: Path) -> None:
    (project / "requirements.txt").write_text("big==1.0\nboto3\n")
    pip = FakePip(sizes={"big": 5000, "boto3": 300})
    aws = build(make_service(project), cache_dir=cache_dir, pip=pip, target=AWS,
                out_dir=project / "out-aws")
    assert [p.name for p in aws.packages] == ["big"]
    assert aws.layer is not None
    with zipfile.ZipFile(aws.layer.path) as zf:
        assert not any(n.startswith("python/boto3") for n in zf.namelist())


def test_no_dependencies_means_no_layer(project: Path, cache_dir: Path) -> None:
    (project / "requirements.txt").write_text("flask\n")
    service = make_service(project)
    with_layer = build(service, cache_dir=cache_dir, pip=FakePip())
    assert with_layer.layer is not None and with_layer.layer.path.exists()
    (project / "requirements.txt").write_text("# nothing yet\n")
    pip = FakePip()
    without = build(service, cache_dir=cache_dir, pip=pip)
    assert without.layer is None and without.packages == [] and pip.calls == []
    assert not with_layer.layer.path.exists()  # no stale layer beside the new code zip


def test_slim_puts_dependencies_in_the_code_zip(project: Path, cache_dir: Path) -> None:
    (project / "requirements.txt").write_text("flask==3.0.0\n")
    manifest = build(make_service(project, slim=True), cache_dir=cache_dir, pip=FakePip())
    assert manifest.layer is None and [p.name for p in manifest.packages] == ["flask"]
    with zipfile.ZipFile(manifest.code.path) as zf:
        info = zf.getinfo("aloft_deps.zip")
        assert info.compress_type == zipfile.ZIP_STORED
        deps = zf.read("aloft_deps.zip")
    deps_path = project / "deps.zip"
    deps_path.write_bytes(deps)
    with zipfile.ZipFile(deps_path) as zf:  # packages at the root: the runtime adds it to sys.path
        assert "flask/__init__.py" in zf.namelist()


def test_cache_writes_are_atomic(project: Path, cache_dir: Path) -> None:
    (project / "requirements.txt").write_text("flask==3.0.0\n")
    build(make_service(project), cache_dir=cache_dir, pip=FakePip())
    leftovers = [p.name for p in cache_dir.rglob(".*")]
    assert leftovers == []  # no staging directories or temp files remain
    cache = BuildCache(cache_dir)
    (key,) = os.listdir(cache.layers)
    (cache.layers / key / "meta.json").write_text("{broken")
    pip = FakePip()
    build(make_service(project), cache_dir=cache_dir, pip=pip)  # a damaged entry is rebuilt
    assert len(pip.calls) == 1


def test_concurrent_builds_end_with_one_entry(
    project: Path, cache_dir: Path, tmp_path: Path
) -> None:
    (project / "requirements.txt").write_text("flask==3.0.0\n")
    service = make_service(project)
    shas: list[str] = []

    def run(i: int) -> None:
        m = build(service, cache_dir=cache_dir, pip=FakePip(), out_dir=tmp_path / f"out{i}")
        assert m.layer is not None
        shas.append(m.layer.sha256)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(shas)) == 1 and len(shas) == 4
    assert len(os.listdir(cache_dir / "layers")) == 1
    assert len(os.listdir(cache_dir / "unpacked")) == 1


def test_scratch_left_by_a_killed_build_is_swept(project: Path, cache_dir: Path) -> None:
    stale = cache_dir / ".build-killed"
    fresh = cache_dir / "unpacked" / ".abc-running"
    for path in (stale, fresh):
        path.mkdir(parents=True)
    day_ago = os.stat(stale).st_mtime - 2 * 24 * 3600
    os.utime(stale, (day_ago, day_ago))
    (project / "requirements.txt").write_text("flask==3.0.0\n")
    build(make_service(project), cache_dir=cache_dir, pip=FakePip())
    assert not stale.exists() and fresh.exists()  # a running build's scratch is left alone
