"""Decompression by magic bytes, bounded: a decompression bomb is stopped at its limit and quarantined as stored."""
from __future__ import annotations

import bz2
import hashlib
import lzma
import zlib

from .objects import ObjectTooLarge, SourceError
from .records import Reject

# One object's content is held in memory whole (decompressed). A compressed object expanding past
# max(MAX_OBJECT_BYTES, MAX_RATIO x its stored size) is a decompression bomb: quarantined as stored, not read.
MAX_OBJECT_BYTES = 512 << 20
MAX_RATIO = 100
DECOMPRESS_CHUNK = 2 << 20  # decompression output step: a bomb stops within one step past its limit
QUARANTINE_MAX_BYTES = 16 << 20  # a whole object quarantined byte-exact up to this; beyond, its size and sha256


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
    if len(stored) <= QUARANTINE_MAX_BYTES:
        return Reject(url, 0, reason, stored)
    digest = hashlib.sha256(stored).hexdigest()
    return Reject(url, 0, f"{reason} (object of {len(stored)} bytes, over the {QUARANTINE_MAX_BYTES}-byte quarantine "
                          f"cap: sha256 {digest})", b"")
