"""The Files API over Unity Catalog volumes: `/api/2.0/fs/files/Volumes/...` and `/api/2.0/fs/directories/...`.

    PUT    /fs/files/Volumes/<c>/<s>/<v>/<path>?overwrite=   raw body; 204 (409 ALREADY_EXISTS with overwrite=false)
    GET    /fs/files/...                                    the bytes, content-length, last-modified
    HEAD   /fs/files/...                                    the same headers, no body
    DELETE /fs/files/...                                    204
    GET    /fs/directories/Volumes/...                      {contents: [{path, is_directory, file_size,
                                                             last_modified, name}], next_page_token?}
    PUT    /fs/directories/...                              create (with parents); HEAD: exists?; DELETE: if empty

The SDK's `files.upload` (databricks-sdk 0.60, without the experimental client) sends one PUT with the whole
body and `overwrite=true|false` in the query; omitted, an existing file is overwritten. Files live under
`<storage_dir>/_volumes/<c>/<s>/<v>/`; an unknown volume is 404 NOT_FOUND.
"""

import base64
import os
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ppm_sandbox.databricks.catalog import Catalog
from ppm_sandbox.databricks.errors import ApiError, invalid_parameter
from ppm_sandbox.databricks.responses import json_response

MAX_PAGE_SIZE = 1000


def not_found(message: str = "The file being accessed is not found.") -> ApiError:
    return ApiError(404, "NOT_FOUND", message)


class VolumeFiles:
    """Volume paths (`/Volumes/c/s/v/...`) mapped to local files, checked against the catalog's volumes."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def resolve(self, path: str, *, file: bool) -> tuple[str, Path]:
        """(canonical `/Volumes/...` path, local path); `path` as in the URL, with or without a leading `/`."""
        parts = path.strip("/").split("/")
        if len(parts) < 4 or parts[0] != "Volumes":
            raise invalid_parameter(
                f"Invalid path '{path}': the sandbox serves volume files only, '/Volumes/<catalog>/<schema>/<volume>/...'."
            )
        if any(p in ("", ".", "..") for p in parts):
            raise invalid_parameter(f"Invalid path '{path}'.")
        if file and len(parts) < 5:
            raise invalid_parameter(f"Invalid path '{path}': it names a volume, not a file.")
        volume = ".".join(p.lower() for p in parts[1:4])
        if not self.catalog.has_volume(volume):
            raise not_found(f"Volume '{volume}' does not exist.")
        canonical = "/" + "/".join(["Volumes", *volume.split("."), *parts[4:]])
        return canonical, self.catalog.volume_dir(volume).joinpath(*parts[4:])

    def local_path(self, volume_path: str) -> Path:
        """The local file of a `/Volumes/...` path (COPY INTO's source); raises ApiError as the API would."""
        return self.resolve(volume_path, file=False)[1]

    def every_file(self) -> list[dict[str, Any]]:
        """Every file in every volume (control route)."""
        out: list[dict[str, Any]] = []
        for volume in self.catalog.volumes():
            root = self.catalog.volume_dir(volume)
            prefix = "/Volumes/" + volume.replace(".", "/")
            for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")):
                out.append(
                    {"path": f"{prefix}/{path.relative_to(root).as_posix()}", "size": path.stat().st_size}
                )
        return out


def _last_modified(path: Path) -> str:
    return format_datetime(datetime.fromtimestamp(path.stat().st_mtime, UTC), usegmt=True)


def _file_headers(path: Path) -> dict[str, str]:
    return {
        "content-type": "application/octet-stream",
        "content-length": str(path.stat().st_size),
        "last-modified": _last_modified(path),
    }


def _write(path: Path, body: bytes, overwrite: bool, canonical: str) -> None:
    if path.is_dir():
        raise ApiError(409, "ALREADY_EXISTS", f"A directory already exists at '{canonical}'.")
    if path.exists() and not overwrite:
        raise ApiError(409, "ALREADY_EXISTS", "The file being created already exists.")
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.upload-{os.getpid()}-{id(body)}")
    temporary.write_bytes(body)
    temporary.replace(path)  # readers and COPY INTO never see half a file


def _overwrite(request: Request) -> bool:
    raw = request.query_params.get("overwrite")
    if raw is None:
        return True
    if raw.lower() not in ("true", "false"):
        raise invalid_parameter(f"overwrite must be true or false, got '{raw}'")
    return raw.lower() == "true"


async def file_endpoint(request: Request, files: VolumeFiles) -> Response:
    canonical, path = files.resolve(request.path_params["path"], file=True)
    method = request.method
    if method == "PUT":
        body = await request.body()
        await run_in_threadpool(_write, path, body, _overwrite(request), canonical)
        return Response(status_code=204)
    if not path.is_file():
        if method == "HEAD":
            return Response(status_code=404)
        raise not_found()
    if method == "DELETE":
        path.unlink()
        return Response(status_code=204)
    headers = _file_headers(path)
    if method == "HEAD":
        return Response(status_code=200, headers=headers)
    content = await run_in_threadpool(path.read_bytes)
    headers.pop("content-length")
    return Response(content, status_code=200, headers=headers, media_type="application/octet-stream")


def _entry(canonical: str, child: Path) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "path": f"{canonical}/{child.name}",
        "is_directory": child.is_dir(),
        "name": child.name,
    }
    if not child.is_dir():
        stat = child.stat()
        entry["file_size"] = stat.st_size
        entry["last_modified"] = int(stat.st_mtime * 1000)
    return entry


def _page(request: Request) -> tuple[int, int]:
    try:
        size = int(request.query_params.get("page_size") or MAX_PAGE_SIZE)
        token = request.query_params.get("page_token")
        offset = int(base64.urlsafe_b64decode(token.encode()).decode()) if token else 0
    except ValueError:
        raise invalid_parameter("Invalid page_size or page_token.") from None
    return offset, max(1, min(size, MAX_PAGE_SIZE))


async def directory_endpoint(request: Request, files: VolumeFiles) -> Response:
    canonical, path = files.resolve(request.path_params["path"], file=False)
    canonical = canonical.rstrip("/")
    method = request.method
    if method == "PUT":
        if path.is_file():
            raise ApiError(409, "ALREADY_EXISTS", f"A file already exists at '{canonical}'.")
        path.mkdir(parents=True, exist_ok=True)
        return Response(status_code=204)
    if not path.is_dir():
        if method == "HEAD":
            return Response(status_code=404)
        raise not_found(f"The directory being accessed is not found: '{canonical}'.")
    if method == "HEAD":
        return Response(status_code=200)
    if method == "DELETE":
        if any(path.iterdir()):
            raise ApiError(409, "DIRECTORY_NOT_EMPTY", f"The directory '{canonical}' is not empty.")
        path.rmdir()
        return Response(status_code=204)
    offset, size = _page(request)
    children = sorted((c for c in path.iterdir() if not c.name.startswith(".")), key=lambda c: c.name)
    page = children[offset : offset + size]
    body: dict[str, Any] = {"contents": [_entry(canonical, child) for child in page]}
    if offset + size < len(children):
        body["next_page_token"] = base64.urlsafe_b64encode(str(offset + size).encode()).decode()
    return json_response(200, body)
