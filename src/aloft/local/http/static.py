"""A stage's static files (`static_path` served from `static_dir`): safe path joins, content
types, ETag and 304, like a CDN in front of the API would."""

from __future__ import annotations

import asyncio
import mimetypes
from email.utils import formatdate
from pathlib import Path
from urllib.parse import unquote

from aloft.local.http.proxy_integration import json_response
from aloft.local.types import HttpRequest, HttpResponse

INLINE_READ = 256 * 1024  # bigger files are read in a thread: the event loop never waits on disk


def static_file(static_dir: Path, relative: str) -> Path | None:
    """The file `relative` (URL-decoded, within the static dir) names, None when it is outside
    the directory, hidden behind `..`, or not a regular file."""
    parts = [p for p in relative.split("/") if p]
    if any(p in (".", "..") or "\0" in p or "\\" in p for p in parts) or not parts:
        return None
    root = static_dir.resolve()
    candidate = root.joinpath(*parts).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return candidate


def content_type(path: Path) -> str:
    kind, _ = mimetypes.guess_type(path.name)
    kind = kind or "application/octet-stream"
    if kind.startswith("text/") or kind in ("application/javascript", "application/json"):
        kind += "; charset=utf-8"
    return kind


async def serve_static(
    request: HttpRequest, static_path: str, static_dir: Path, rest: str
) -> HttpResponse | None:
    """The response for a request under `static_path`, None when the path is not under it."""
    prefix = "/" + static_path.strip("/")
    if rest != prefix and not rest.startswith(prefix + "/"):
        return None
    if request.method not in ("GET", "HEAD"):
        return json_response(405, {"message": "Method Not Allowed"}, [("allow", "GET, HEAD")])
    path = static_file(static_dir, unquote(rest[len(prefix) :]))
    if path is None:
        return json_response(404, {"message": "Not Found"})
    stat = path.stat()
    etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
    headers = [
        ("etag", etag),
        ("last-modified", formatdate(stat.st_mtime, usegmt=True)),
        ("cache-control", "no-cache"),
    ]
    if etag in (request.header("if-none-match") or "").replace("W/", "").split(", "):
        return HttpResponse(304, headers)
    headers.append(("content-type", content_type(path)))
    if request.method == "HEAD":
        headers.append(("content-length", str(stat.st_size)))
        return HttpResponse(200, headers)
    if stat.st_size <= INLINE_READ:
        body = path.read_bytes()
    else:
        body = await asyncio.get_running_loop().run_in_executor(None, path.read_bytes)
    return HttpResponse(200, headers, body)
