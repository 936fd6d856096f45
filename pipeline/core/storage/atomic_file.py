"""Whole-file writes a concurrent reader or a crash never sees half done: on an object store one PUT (objects appear
whole), on a local disk a temporary file in the same folder, flushed to disk and renamed over the target."""
from __future__ import annotations

import os
import tempfile

import fsspec


def is_local(fs) -> bool:
    protocols = (fs.protocol,) if isinstance(fs.protocol, str) else tuple(fs.protocol or ())
    return any(p in ("file", "local") for p in protocols)


def put_atomic(fs, path: str, data: bytes) -> None:
    """Write `data` to `path` on `fs` (an fsspec filesystem) so that readers see the old content or the new, never a
    truncated file."""
    if not is_local(fs):
        fs.pipe_file(path, data)
        return
    folder = os.path.dirname(path) or "."
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.basename(path)[-40:])
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_text_atomic(url: str, text: str, storage_options: dict | None = None) -> str:
    """`put_atomic` for a URL or local path; returns the filesystem path written."""
    fs, path = fsspec.core.url_to_fs(url, **(storage_options or {}))
    put_atomic(fs, path, text.encode("utf-8"))
    return path
