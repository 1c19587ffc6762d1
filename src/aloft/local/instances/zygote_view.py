"""A zygote's view of the artifact store: its layer and the code of the versions it forks.

The artifact store unpacks every project's code and layers side by side (`unpacked/<sha256>/`).
A zygote imports a layer's modules (its dependencies' code runs there) and forks templates of
new versions, each of which keeps its own code and layer and hides the rest; but it can only
keep what its zygote sees, and versions deployed after the zygote started need theirs too.
Rather than the whole store, a zygote sees (in its mount namespace, where the store is) a
directory of its own that the daemon fills as it goes: before the zygote forks a template or
an instance of a version, the version's code directory is linked in (hard links, in a
temporary directory renamed into place: the zygote sees a whole tree or none), and an empty
directory stands where its layer is bound. Those directories are the only ones the zygote's
layer imports can list or read, and (the pool keys zygotes by layer and by an environment that
names the service and stage, ALOFT_BASE_PATH) they all belong to one stage of one service.

Hard links share the store's files (no copy; a file that cannot be linked, another file
system, is copied). A view goes when its zygote stops (what it forked dies with it); those of
a daemon that did not stop cleanly go when the next one starts (`sweep`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
from pathlib import Path


def sweep(root: Path) -> Path:
    """`root`, emptied of the views an earlier daemon left (one daemon per home)."""
    if root.is_dir():
        for entry in root.iterdir():
            shutil.rmtree(entry, ignore_errors=True)
    root.mkdir(parents=True, exist_ok=True)
    return root


class ZygoteView:
    """One zygote's directory standing for the artifact store (`artifacts`) in its view."""

    def __init__(self, root: Path, artifacts: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.artifacts = artifacts
        self.path = Path(tempfile.mkdtemp(prefix="zygote-", dir=root))
        self._shown: set[Path] = set()
        self._lock = threading.Lock()  # held while a tree is linked in (a worker thread)
        self._removed = False

    def _inside(self, directory: Path) -> Path | None:
        """`directory`'s path relative to the store; None when it is not in the store."""
        try:
            relative = directory.relative_to(self.artifacts)
        except ValueError:
            return None
        return relative if relative.parts and ".." not in relative.parts else None

    def shows(self, code_dir: Path) -> bool:
        """Whether `code_dir` is in the view already (or needs not be: not in the store)."""
        return code_dir in self._shown or self._inside(code_dir) is None

    def show(self, code_dir: Path) -> None:
        """Link `code_dir` (a version's unpacked code) into the view, once. Raises OSError
        when it cannot be (the zygote must not fork that version: its template would not find
        its code)."""
        if code_dir in self._shown:
            return
        relative = self._inside(code_dir)
        if relative is None:
            return
        try:
            with self._lock:
                self._link(code_dir, self.path / relative)
        finally:
            if self._removed:  # meanwhile, while linking: what `remove` could not
                self.remove()

    def _link(self, code_dir: Path, target: Path) -> None:
        if self._removed:
            raise FileNotFoundError(f"the zygote's view {self.path} is gone")
        if code_dir not in self._shown:
            if not target.is_dir():
                target.parent.mkdir(parents=True, exist_ok=True)
                work = Path(tempfile.mkdtemp(prefix=".link-", dir=target.parent))
                try:
                    _link_tree(code_dir, work)
                    work.chmod(code_dir.stat().st_mode & 0o7777)
                    os.rename(work, target)
                except OSError:
                    shutil.rmtree(work, ignore_errors=True)
                    if not target.is_dir():
                        raise
            self._shown.add(code_dir)

    def mount_point(self, directory: Path) -> None:
        """An empty directory where `directory` (the layer, bound over it in the zygote's
        namespace) is in the store: the view is read-only there."""
        relative = self._inside(directory)
        if relative is not None:
            (self.path / relative).mkdir(parents=True, exist_ok=True)

    def remove(self) -> None:
        """Delete the view (its zygote stopped); when a tree is being linked into it (in a
        worker thread), that thread deletes it once done, without the caller waiting."""
        self._removed = True
        if self._lock.acquire(blocking=False):
            try:
                shutil.rmtree(self.path, ignore_errors=True)
            finally:
                self._lock.release()


def _link_tree(source: Path, dest: Path) -> None:
    """Recreate the tree `source` in the (existing, empty) directory `dest`: directories made,
    files hard-linked (copied where they cannot be), symbolic links as they are."""
    with os.scandir(source) as entries:
        for entry in entries:
            target = os.path.join(dest, entry.name)
            if entry.is_symlink():
                os.symlink(os.readlink(entry.path), target)
            elif entry.is_dir():
                os.mkdir(target)
                _link_tree(Path(entry.path), Path(target))
                with contextlib.suppress(OSError):
                    os.chmod(target, entry.stat().st_mode & 0o7777)
            else:
                try:
                    os.link(entry.path, target)
                except OSError:
                    shutil.copy2(entry.path, target)
