"""Where drops go: a local directory (plain os calls) or any fsspec URL (imported only for remote URLs).

`put(local, folder, name)` uploads under a temporary name in `_staging/` (which drop listings skip), moves the object
to `{drop_url}/{folder}/{name}` and verifies its size; it returns only when the object is in place.
"""
from __future__ import annotations

import os
import shutil
from urllib.parse import urlparse

STAGING = "_staging"


class SinkError(Exception):
    pass


def is_local(url: str) -> bool:
    return "://" not in url or url.startswith("file://")


def local_path(url: str) -> str:
    return urlparse(url).path if url.startswith("file://") else url


class LocalSink:
    def __init__(self, url: str) -> None:
        self.root = local_path(url).rstrip("/") or "/"

    def check(self) -> None:
        """Raises when the drop location cannot be written."""
        os.makedirs(os.path.join(self.root, STAGING), exist_ok=True)

    def put(self, local: str, folder: str, name: str) -> None:
        staging_dir = os.path.join(self.root, STAGING)
        final_dir = os.path.join(self.root, folder)
        os.makedirs(staging_dir, exist_ok=True)
        os.makedirs(final_dir, exist_ok=True)
        tmp = os.path.join(staging_dir, f"{name}.{os.getpid()}.tmp")
        with open(local, "rb") as src, open(tmp, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
            dst.flush()
            os.fsync(dst.fileno())
        final = os.path.join(final_dir, name)
        os.replace(tmp, final)
        if os.path.getsize(final) != os.path.getsize(local):
            raise SinkError(f"size mismatch after moving {final}")


class FsspecSink:
    def __init__(self, url: str, storage_options: dict | None = None) -> None:
        import fsspec  # only remote drop URLs need it

        self.fs, self.root = fsspec.core.url_to_fs(url.rstrip("/"), **(storage_options or {}))
        self.root = self.root.rstrip("/")

    def check(self) -> None:
        """Raises when the store does not answer (one metadata call on the bucket)."""
        self.fs.invalidate_cache()
        self.fs.info(self.root.split("/", 1)[0])  # the bucket/container: a HEAD, whatever it holds

    def put(self, local: str, folder: str, name: str) -> None:
        size = os.path.getsize(local)
        tmp = f"{self.root}/{STAGING}/{name}.{os.getpid()}.tmp"
        final = f"{self.root}/{folder}/{name}"
        self.fs.put_file(local, tmp)
        if self.fs.info(tmp).get("size") != size:
            raise SinkError(f"size mismatch after uploading {tmp}")
        self.fs.mv(tmp, final)
        if self.fs.info(final).get("size") != size:
            raise SinkError(f"size mismatch after moving {final}")


def make_sink(url: str, storage_options: dict | None = None):
    return LocalSink(url) if is_local(url) else FsspecSink(url, storage_options)
