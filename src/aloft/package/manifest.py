"""What a build produced: the artifact files, their hashes and what went into them."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

from aloft.errors import PackageError
from aloft.package.files import temp_sibling

HANDLER = "aloft.runtime.handler.handler"
"""The entry point of every artifact (Lambda's `Handler` setting)."""

MANIFEST_FILE = "manifest.json"


@dataclass(frozen=True)
class ArtifactFile:
    path: Path
    size: int
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "size": self.size, "sha256": self.sha256}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ArtifactFile:
        return cls(Path(data["path"]), int(data["size"]), str(data["sha256"]))


@dataclass(frozen=True)
class PackageSize:
    """One installed distribution and the bytes its files take unzipped."""

    name: str
    bytes: int


@dataclass(frozen=True)
class Manifest:
    code: ArtifactFile
    layer: ArtifactFile | None  # None when the project has no dependencies (or `slim: true`)
    python_version: str
    platform: str
    provider: Literal["local", "aws"]
    packages: list[PackageSize] = field(default_factory=list)  # largest first
    build_seconds: float = 0.0
    cached_layer: bool = False
    handler: str = HANDLER
    tasks: bool = True  # the code calls `@aloft.task` (unknown: True, the functions may)
    # Django's static files collected at build: (URL path, directory); `static:` when the
    # stage has none (aloft.package.django_static.served)
    static: tuple[str, str] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code.to_dict(),
            "layer": self.layer.to_dict() if self.layer else None,
            "python_version": self.python_version,
            "platform": self.platform,
            "provider": self.provider,
            "handler": self.handler,
            "packages": [{"name": p.name, "bytes": p.bytes} for p in self.packages],
            "build_seconds": self.build_seconds,
            "cached_layer": self.cached_layer,
            "tasks": self.tasks,
            "static": list(self.static) if self.static else None,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def write(self, path: Path) -> None:
        """Write atomically (temp file + rename): readers never see half a manifest."""
        tmp = temp_sibling(path)
        tmp.write_text(self.to_json() + "\n", encoding="utf-8")
        os.replace(tmp, path)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        layer = data.get("layer")
        return cls(
            code=ArtifactFile.from_dict(data["code"]),
            layer=ArtifactFile.from_dict(layer) if layer else None,
            python_version=str(data["python_version"]),
            platform=str(data["platform"]),
            provider=cast(Literal["local", "aws"], data["provider"]),
            packages=[PackageSize(str(p["name"]), int(p["bytes"])) for p in data["packages"]],
            build_seconds=float(data["build_seconds"]),
            cached_layer=bool(data["cached_layer"]),
            handler=str(data.get("handler", HANDLER)),
            tasks=bool(data.get("tasks", True)),
            static=(str(static[0]), str(static[1])) if (static := data.get("static")) else None,
        )

    @classmethod
    def read(cls, path: Path) -> Manifest:
        try:
            return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise PackageError(
                f"no build manifest at {path}", fix="run `aloft package` first"
            ) from None
        except (ValueError, KeyError, TypeError) as exc:
            raise PackageError(
                f"build manifest {path} is unreadable ({exc})",
                fix="delete it and run `aloft package` again",
            ) from None
