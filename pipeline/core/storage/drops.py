"""Log drops under a prefix (a file or a folder of files each), their partition keys, and the cursor that finds new
ones: a high-water mark plus a bounded memory of what was seen, so late files (old mtimes) are not missed."""
from __future__ import annotations

import hashlib
import json
import time
import urllib.parse
from dataclasses import dataclass, field

from ..ingest.sources import SourceObject, filesystem, resolve_source

KEY_SEP = "__"  # partition keys cannot hold '/', so nested drop paths join with this
# The lake keeps a drop under `drop=<percent-encoded key>`: past this many encoded bytes a key is cut and gets a hash of
# its full path, so no file name (255 bytes on most filesystems) is ever too long.
MAX_KEY_ENCODED = 180
HASH_CHARS = 16


@dataclass(frozen=True)
class Drop:
    key: str
    url: str
    mtime: float
    size: int
    files: int


def _rel(base: str, path: str) -> str:
    return path[len(base):].strip("/") if path.startswith(base) else path


def _hashed(key: str, rel: str) -> str:
    digest = hashlib.sha256(rel.encode("utf-8", "surrogatepass")).hexdigest()[:HASH_CHARS]
    head = key
    while head and len(urllib.parse.quote(head, safe="")) > MAX_KEY_ENCODED - HASH_CHARS - 1:
        head = head[: max(1, len(head) * 3 // 4)] if len(head) > 8 else head[:-1]
    return f"{head}~{digest}"


def drop_key(rel: str) -> str:
    """The partition key of the drop at `rel` (its path under the prefix): path parts joined by `__`, cut with a hash
    of the full path when too long for a lake folder name."""
    key = KEY_SEP.join(rel.split("/"))
    return key if len(urllib.parse.quote(key, safe="")) <= MAX_KEY_ENCODED else _hashed(key, rel)


def list_drops(drops_url: str, storage_options: dict | None = None, depth: int = 1) -> list[Drop]:
    """Each entry `depth` levels under the prefix is a drop: a file, or a folder whose files are one drop. Keys are
    unique: two paths that would join to the same key (`a__b/c`, `a/b__c`) are told apart by a hash."""
    fs = filesystem(drops_url, storage_options)
    base = fs._strip_protocol(drops_url).rstrip("/")
    if not fs.exists(base):
        return []
    groups: dict[str, list[SourceObject]] = {}
    for obj in resolve_source(drops_url, storage_options):
        rel = _rel(base, obj.path)
        parts = rel.split("/")
        if any(p.startswith((".", "_")) for p in parts):
            continue
        groups.setdefault("/".join(parts[:depth]), []).append(obj)
    protocol = drops_url.split("://", 1)[0] + "://" if "://" in drops_url else ""
    keys: dict[str, list[str]] = {}
    for rel in groups:
        keys.setdefault(drop_key(rel), []).append(rel)
    out = []
    for key, rels in keys.items():
        for rel in rels:
            objs = groups[rel]
            unique = key if len(rels) == 1 else _hashed(key, rel)
            mtimes = [o.mtime or 0.0 for o in objs]
            out.append(Drop(unique, f"{protocol}{base}/{rel}", max(mtimes), sum(o.size or 0 for o in objs), len(objs)))
    return sorted(out, key=lambda d: (d.mtime, d.key))


def drop_objects(drops_url: str, key: str, storage_options: dict | None = None, depth: int = 1) -> list[SourceObject]:
    """The objects of one drop, listed fresh; a drop that has vanished is an error naming it. A top-level name is
    tried as it is (a `__` in a file name is part of the name); any other key is found by listing the prefix."""
    base = drops_url.rstrip("/")
    if depth == 1 and "/" not in key and drop_key(key) == key:
        fs = filesystem(drops_url, storage_options)
        if fs.exists(f"{fs._strip_protocol(base)}/{key}"):
            return resolve_source(f"{base}/{key}", storage_options)
    for drop in list_drops(drops_url, storage_options, depth):
        if drop.key == key:
            return resolve_source(drop.url, storage_options)
    raise FileNotFoundError(f"drop {key!r} is no longer under {drops_url}")


SEEN_WINDOW_S = 7 * 86400.0  # drops this much older than the high-water mark are remembered by key+mtime+size
MAX_SEEN = 50_000  # at most this many remembered drops (the newest); the cursor stays a few MB at worst


@dataclass
class DropCursor:
    """The newest modification time handed out (`hwm`) and what was handed out lately: key -> (mtime, size) of every
    drop within SEEN_WINDOW_S of the mark. A drop is new when its (mtime, size) was not handed out under its key: a
    late file whose mtime is older than the mark (`cp -p`, `rsync -t`, an S3 copy, a skewed clock) is still new.
    Older than the window, a drop is new when its key is not among the `known` keys (the sensor passes the drops
    partitions, which remember every drop ever requested)."""

    hwm: float = 0.0
    seen: dict = field(default_factory=dict)

    @classmethod
    def parse(cls, raw: str | None) -> "DropCursor":
        if not raw:
            return cls()
        d = json.loads(raw)
        hwm = float(d.get("hwm", 0.0))
        seen = {k: (float(v[0]), None if v[1] is None else int(v[1])) for k, v in (d.get("seen") or {}).items()}
        for k in d.get("keys_at_hwm", ()):  # the earlier format: keys at the mark, any size
            seen.setdefault(k, (hwm, None))
        return cls(hwm, seen)

    def dump(self) -> str:
        return json.dumps({"hwm": self.hwm, "seen": {k: list(self.seen[k]) for k in sorted(self.seen)}})

    def handed_out(self, d: Drop) -> bool:
        got = self.seen.get(d.key)
        return got is not None and got[0] == d.mtime and got[1] in (None, d.size)


def select_new(drops: list[Drop], cursor: DropCursor, max_per_tick: int, min_age_s: float = 0.0,
               now: float | None = None, known=None, window_s: float = SEEN_WINDOW_S,
               max_seen: int = MAX_SEEN) -> tuple[list[Drop], DropCursor]:
    """The oldest drops not yet handed out (at most max_per_tick, none younger than min_age_s) and the new cursor.
    `known`: keys already requested in the past (a set); with it, drops older than the window are new when unknown."""
    now = time.time() if now is None else now
    floor = cursor.hwm - window_s

    def fresh(d: Drop) -> bool:
        if cursor.handed_out(d):
            return False
        if d.mtime > cursor.hwm or d.key in cursor.seen:  # newer than the mark, or changed since handed out
            return True
        if known is not None:  # the partitions remember every drop ever requested
            return d.key not in known
        return d.mtime >= floor  # no such memory: the window decides

    picked = [d for d in sorted(drops, key=lambda d: (d.mtime, d.key)) if fresh(d) and now - d.mtime >= min_age_s]
    picked = picked[:max_per_tick]
    if not picked:
        return [], cursor
    hwm = max(cursor.hwm, max(d.mtime for d in picked))
    seen = dict(cursor.seen)
    seen.update({d.key: (d.mtime, d.size) for d in picked})
    kept = sorted(((k, v) for k, v in seen.items() if v[0] >= hwm - window_s), key=lambda kv: (-kv[1][0], kv[0]))
    return picked, DropCursor(hwm, dict(kept[:max_seen]))
