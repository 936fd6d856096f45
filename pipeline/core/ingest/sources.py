"""Resolves a SOURCE (path, glob, directory, fsspec URL or stdin) into objects, and reads them decompressed by content."""
from __future__ import annotations

import bz2
import errno
import hashlib
import lzma
import os
import stat
import sys
import time
import zlib
from dataclasses import dataclass, field
from typing import Any

import fsspec

STDIN = "-"
_GLOB_CHARS = set("*?[")
_SKIP_NAMES = (".DS_Store", "_SUCCESS")
_TRANSIENT = (ConnectionError, TimeoutError, OSError)


# One object's content is held in memory whole (decompressed). A compressed object expanding past
# max(MAX_OBJECT_BYTES, MAX_RATIO x its stored size) is a decompression bomb: quarantined as stored, not read.
MAX_OBJECT_BYTES = 512 << 20
MAX_RATIO = 100
DECOMPRESS_CHUNK = 2 << 20  # decompression output step: a bomb stops within one step past its limit
QUARANTINE_MAX_BYTES = 16 << 20  # a whole object quarantined byte-exact up to this; beyond, its size and sha256


class SourceError(Exception):
    """An object that cannot be listed or read; the message names the object and the cause."""


class ObjectTooLarge(SourceError):
    """A compressed object expanding past its limit (see decompress): quarantined as stored, the drop goes on."""


@dataclass(frozen=True)
class SourceObject:
    url: str  # what a person reads in messages: the URL or path as given/resolved
    path: str  # the path inside `fs`
    size: int | None = None
    mtime: float | None = None
    fs: Any = field(default=None, compare=False, repr=False)
    problem: str | None = None  # why the object cannot be read (dangling symlink, loop): it is quarantined by name

    @property
    def name(self) -> str:
        return self.path.rstrip("/").rsplit("/", 1)[-1]


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


def compression_of(head: bytes) -> str | None:
    if head[:2] == b"\x1f\x8b":
        return "gzip"
    if head[:4] == b"\x28\xb5\x2f\xfd":
        return "zstd"
    if head[:3] == b"BZh" and head[3:4].isdigit():
        return "bz2"
    if head[:6] == b"\xfd7zXZ\x00":
        return "xz"
    return None


def decompress(data: bytes, url: str, limit: int | None = None) -> tuple[bytes, str | None]:
    """Decompress by magic bytes, not by extension, in DECOMPRESS_CHUNK steps; a truncated or corrupt stream raises
    SourceError naming the object. Content past max(limit (default MAX_OBJECT_BYTES), MAX_RATIO x stored size) raises
    ObjectTooLarge: a bomb is stopped there, a large but ordinary log (ratio below MAX_RATIO) is read whole."""
    kind = compression_of(data[:8])
    if kind is None:
        return data, None
    limit = max(MAX_OBJECT_BYTES if limit is None else limit, MAX_RATIO * len(data))
    try:
        if kind == "gzip":
            out = _gunzip(data, limit)
        elif kind == "zstd":
            out = _unzstd(data, limit)
        elif kind == "bz2":
            out = _bounded(data, limit, bz2.BZ2Decompressor, b"BZh")
        else:
            out = _bounded(data, limit, lzma.LZMADecompressor, b"\xfd7zXZ\x00")
    except ObjectTooLarge as exc:
        raise ObjectTooLarge(f"decompression bomb: {kind} content over the {limit}-byte limit for this object "
                             f"(stopped after {exc.args[0]} bytes, {len(data)} stored)") from None
    except (EOFError, OSError, ValueError, zlib.error, lzma.LZMAError) as exc:
        raise SourceError(f"{url}: {kind} stream is truncated or corrupt ({exc})") from exc
    except Exception as exc:  # zstandard raises its own ZstdError
        raise SourceError(f"{url}: {kind} stream is truncated or corrupt ({exc})") from exc
    return out, kind


class _Out:
    """Collects decompressed pieces, raising ObjectTooLarge (with the count so far) once past the limit."""

    def __init__(self, limit: int):
        self.parts: list[bytes] = []
        self.size, self.limit = 0, limit

    def add(self, piece: bytes) -> None:
        self.size += len(piece)
        if self.size > self.limit:
            self.parts.clear()
            raise ObjectTooLarge(self.size)
        self.parts.append(piece)

    def join(self) -> bytes:
        return b"".join(self.parts)


def _bounded(data: bytes, limit: int, make, magic: bytes) -> bytes:
    """All members of a bz2/xz/gzip stream, decompressed DECOMPRESS_CHUNK at a time."""
    out, rest = _Out(limit), data
    while rest:
        d = make()
        buf = rest
        while True:
            piece = d.decompress(buf, DECOMPRESS_CHUNK)
            out.add(piece)
            buf = b""
            if d.eof:
                rest = d.unused_data
                break
            if d.needs_input:
                raise EOFError("stream ends before its end marker")
        if rest and not rest.startswith(magic):
            if rest.strip(b"\x00"):
                raise OSError("trailing garbage after the compressed stream")
            break
    return out.join()


def _gunzip(data: bytes, limit: int) -> bytes:
    """Every member of a gzip stream (concatenated members are common), bounded by `limit`."""
    out, rest = _Out(limit), data
    while rest:
        d = zlib.decompressobj(wbits=31)
        buf = rest
        while True:
            piece = d.decompress(buf, DECOMPRESS_CHUNK)
            out.add(piece)
            buf = d.unconsumed_tail
            if d.eof:
                rest = d.unused_data
                break
            if not buf and not piece:
                tail = d.flush()
                out.add(tail)
                if not d.eof:
                    raise EOFError("gzip stream ends before its end marker")
                rest = d.unused_data
                break
        if rest and not rest.startswith(b"\x1f\x8b"):
            if rest.strip(b"\x00"):
                raise OSError("trailing garbage after the gzip stream")
            break
    return out.join()


def _unzstd(data: bytes, limit: int) -> bytes:
    """All frames of a zstd stream, fed 1 KiB at a time so output per step stays bounded; a frame cut short raises."""
    import zstandard

    out, rest = _Out(limit), data
    while rest:
        dobj = zstandard.ZstdDecompressor().decompressobj()
        pos = 0
        while not dobj.eof and pos < len(rest):
            out.add(dobj.decompress(rest[pos : pos + 1024]))
            pos += 1024
        if not dobj.eof:
            raise EOFError("zstd frame ends before its end marker")
        rest = dobj.unused_data + rest[pos:] if pos < len(rest) else dobj.unused_data
    return out.join()


def quarantined_object(url: str, stored: bytes, reason: str):
    """A reject holding a whole object as stored (byte-exact), or its size and sha256 past QUARANTINE_MAX_BYTES."""
    from .records import Reject

    if len(stored) <= QUARANTINE_MAX_BYTES:
        return Reject(url, 0, reason, stored)
    digest = hashlib.sha256(stored).hexdigest()
    return Reject(url, 0, f"{reason} (object of {len(stored)} bytes, over the {QUARANTINE_MAX_BYTES}-byte quarantine "
                          f"cap: sha256 {digest})", b"")
