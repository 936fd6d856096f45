"""Log drops under a prefix (a file or a folder of files each) and the high-water-mark cursor that finds new ones."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass

from ..ingest.sources import SourceObject, filesystem, resolve_source

KEY_SEP = "__"  # partition keys cannot hold '/', so nested drop paths join with this


@dataclass(frozen=True)
class Drop:
    key: str
    url: str
    mtime: float
    size: int
    files: int


def _rel(base: str, path: str) -> str:
    return path[len(base):].strip("/") if path.startswith(base) else path


def list_drops(drops_url: str, storage_options: dict | None = None, depth: int = 1) -> list[Drop]:
    """Each entry `depth` levels under the prefix is a drop: a file, or a folder whose files are one drop."""
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
        key = KEY_SEP.join(parts[:depth])
        groups.setdefault(key, []).append(obj)
    protocol = drops_url.split("://", 1)[0] + "://" if "://" in drops_url else ""
    out = []
    for key, objs in groups.items():
        url = f"{protocol}{base}/{key.replace(KEY_SEP, '/')}" if protocol else f"{base}/{key.replace(KEY_SEP, '/')}"
        mtimes = [o.mtime or 0.0 for o in objs]
        out.append(Drop(key, url, max(mtimes), sum(o.size or 0 for o in objs), len(objs)))
    return sorted(out, key=lambda d: (d.mtime, d.key))


def drop_objects(drops_url: str, key: str, storage_options: dict | None = None) -> list[SourceObject]:
    """The objects of one drop, listed fresh; a drop that has vanished is an error naming it."""
    base = drops_url.rstrip("/")
    return resolve_source(f"{base}/{key.replace(KEY_SEP, '/')}", storage_options)


@dataclass
class DropCursor:
    """Newest modification time handed out, and the keys at exactly that time (ties must not repeat or be lost)."""

    hwm: float = 0.0
    keys_at_hwm: tuple[str, ...] = ()

    @classmethod
    def parse(cls, raw: str | None) -> "DropCursor":
        if not raw:
            return cls()
        d = json.loads(raw)
        return cls(float(d.get("hwm", 0.0)), tuple(d.get("keys_at_hwm", ())))

    def dump(self) -> str:
        return json.dumps({"hwm": self.hwm, "keys_at_hwm": sorted(self.keys_at_hwm)})


def select_new(drops: list[Drop], cursor: DropCursor, max_per_tick: int, min_age_s: float = 0.0,
               now: float | None = None) -> tuple[list[Drop], DropCursor]:
    """The oldest unseen drops (at most max_per_tick, none younger than min_age_s) and the advanced cursor."""
    now = time.time() if now is None else now
    fresh = [d for d in drops if d.mtime > cursor.hwm or (d.mtime == cursor.hwm and d.key not in cursor.keys_at_hwm)]
    fresh.sort(key=lambda d: (d.mtime, d.key))
    picked = []
    for d in fresh:
        if len(picked) >= max_per_tick or now - d.mtime < min_age_s:
            break  # later drops wait too, so the high-water mark never passes an unpicked drop
        picked.append(d)
    if not picked:
        return [], cursor
    top = picked[-1].mtime
    keys = {d.key for d in picked if d.mtime == top}
    if top == cursor.hwm:
        keys |= set(cursor.keys_at_hwm)
    return picked, DropCursor(top, tuple(sorted(keys)))
