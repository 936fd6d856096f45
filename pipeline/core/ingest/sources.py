"""Resolves a SOURCE (path, glob, directory, fsspec URL or stdin) into objects, and reads them decompressed by content."""
from __future__ import annotations

import errno
import os
import stat
import sys
import time

import fsspec

from .compression import compression_of, decompress
from .objects import ObjectTooLarge, SourceError, SourceObject

__all__ = ["ObjectTooLarge", "SourceError", "SourceObject", "compression_of", "decompress", "filesystem", "read_raw",
           "resolve_source"]

STDIN = "-"
_GLOB_CHARS = set("*?[")
_SKIP_NAMES = (".DS_Store", "_SUCCESS")
_TRANSIENT = (ConnectionError, TimeoutError, OSError)


def filesystem(url: str, storage_options: dict | None = None):
    """The fsspec filesystem for a URL, with listing caches off so new objects are always seen."""
    protocol = fsspec.core.split_protocol(url)[0] or "file"
    opts = dict(storage_options or {})
    if protocol not in ("file", "local"):
        opts.setdefault("skip_instance_cache", True)
        opts.setdefault("use_listings_cache", False)
    try:
        return fsspec.filesystem(protocol, **opts)
    except (ImportError, ValueError) as exc:
        hint = {"gs": "gcsfs", "gcs": "gcsfs", "az": "adlfs", "abfs": "adlfs", "s3": "s3fs"}.get(protocol)
        extra = f" (install {hint})" if hint else ""
        raise SourceError(f"{url}: no filesystem for protocol {protocol!r}{extra}: {exc}") from exc


def _display(fs, path: str) -> str:
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    return path if protocol in ("file", "local") else f"{protocol}://{path}"


def _mtime(info: dict) -> float | None:
    for key in ("mtime", "LastModified", "last_modified", "updated", "created"):
        v = info.get(key)
        if v is None:
            continue
        if hasattr(v, "timestamp"):
            return float(v.timestamp())
        try:
            return float(v)
        except (TypeError, ValueError):
            continue
    return None


def _object(fs, info: dict) -> SourceObject:
    path = info["name"]
    return SourceObject(_display(fs, path), path, info.get("size"), _mtime(info), fs, _link_problem(fs, path))


def _link_problem(fs, path: str) -> str | None:
    """For a local symlink that cannot be read as a file: what is wrong with it (None for everything else)."""
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    if protocol not in ("file", "local") or not os.path.islink(path):
        return None
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return f"dangling symlink: target {os.readlink(path)!r} does not exist"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symlink loop: the link resolves to itself"
        return f"unreadable symlink: {exc.strerror}"
    if stat.S_ISDIR(st.st_mode):
        target = os.path.realpath(path)
        if os.path.dirname(os.path.abspath(path)).startswith(target.rstrip("/") + "/") or target == os.path.dirname(
            os.path.abspath(path)
        ):
            return f"symlink loop: points to its ancestor directory {target!r}"
        return f"symlink to a directory: {target!r} is not followed"
    return None


def _is_local(fs) -> bool:
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    return protocol in ("file", "local")


def _walk_local(fs, root: str) -> list[SourceObject]:
    """Every visible file under a local directory (what fs.find lists, symlinked directories not followed)."""
    out, stack = [], [root.rstrip("/") or "/"]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except PermissionError as exc:
            raise SourceError(f"{root}: permission denied ({exc})") from exc
        for e in entries:
            if e.is_dir(follow_symlinks=False):
                stack.append(e.path)
            elif _visible(e.name):
                st = e.stat(follow_symlinks=False)
                problem = _link_problem(fs, e.path) if e.is_symlink() else None
                if e.is_symlink() and problem is None:
                    st = os.stat(e.path)
                out.append(SourceObject(e.path, e.path, st.st_size, st.st_mtime, fs, problem))
    return out


def _visible(path: str) -> bool:
    name = path.rstrip("/").rsplit("/", 1)[-1]
    return not (name.startswith(".") or name.startswith("_") and name in _SKIP_NAMES or name in _SKIP_NAMES)


def resolve_source(source: str, storage_options: dict | None = None) -> list[SourceObject]:
    """Every readable object a SOURCE names, sorted by path; directories are walked, hidden files skipped."""
    if source == STDIN:
        return [SourceObject("<stdin>", STDIN)]
    fs = filesystem(source, storage_options)
    path = fs._strip_protocol(source)
    try:
        if any(c in path for c in _GLOB_CHARS):
            infos = [fs.info(p) for p in fs.glob(path, refresh=True) if _visible(p)]
        elif _is_local(fs) and os.path.isdir(path):
            return sorted(_walk_local(fs, path), key=lambda o: o.path)  # os.scandir: 100,000 files in a second or two
        elif fs.isdir(path):
            infos = [i for i in fs.find(path, detail=True, refresh=True).values() if _visible(i["name"])]
        else:
            infos = [fs.info(path)]
    except FileNotFoundError as exc:
        raise SourceError(f"{source}: no such object or directory") from exc
    except PermissionError as exc:
        raise SourceError(f"{source}: permission denied ({exc})") from exc
    objs = [_object(fs, i) for i in infos if i.get("type", "file") != "directory"]
    if not objs and not any(c in path for c in _GLOB_CHARS) and not fs.isdir(path):
        raise SourceError(f"{source}: no such object or directory")
    return sorted(objs, key=lambda o: o.path)


def _with_retries(fn, what: str, attempts: int = 4, base_delay: float = 0.2):
    for attempt in range(attempts):
        try:
            return fn()
        except FileNotFoundError as exc:
            raise SourceError(f"{what}: object not found") from exc
        except PermissionError as exc:
            raise SourceError(f"{what}: access denied ({exc})") from exc
        except _TRANSIENT as exc:
            if attempt == attempts - 1:
                raise SourceError(f"{what}: read failed after {attempts} attempts: {exc}") from exc
            time.sleep(base_delay * 2**attempt)


def read_raw(obj: SourceObject) -> bytes:
    """The object's stored bytes (still compressed), retrying transient object-store errors with backoff."""
    if obj.path == STDIN:
        return sys.stdin.buffer.read()
    if obj.fs is not None and _is_local(obj.fs):
        return _with_retries(lambda: _read_local(obj.path), obj.url)
    return _with_retries(lambda: obj.fs.cat_file(obj.path), obj.url)


def _read_local(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


