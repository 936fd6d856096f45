"""The order a drop's objects are read in: by key, except that rotated generations of one log come oldest first.

A drop lists objects by key, which is chronological for time-stamped names (`server-2026-12-01T10.log`, then `T11`)
but not for rotated logs, whose newest generation has the shortest name. Recognized, in one directory, for a log `B`
(whether or not `B` itself is in the drop; an optional compression suffix after the generation is allowed):

- `B.1`, `B.2`, ... (logrotate, Python's RotatingFileHandler): a larger number is older; `B` is the newest. Numbers
  with a leading zero (`B.00`, `B.01`, as `split` writes) are parts in key order, not generations.
- `B-20261201` (logrotate `dateext`), `B.2026-12-01`, `B.2026-12-01_10-00-00` (TimedRotatingFileHandler): dated
  generations, older than `B`, in date order.

The generations of one log then take the places the key order gave them, oldest first (dated, then numbered by
decreasing number, then `B`); every other object keeps its place. Names outside these schemes keep key order.
"""
from __future__ import annotations

import re

_ARCHIVES = (".gz", ".bz2", ".xz", ".zst", ".lz4", ".z", ".Z")
_COMPRESSED = r"(?:\.(?:gz|bz2|xz|zst|lz4|z|Z))?"
_NUMBERED = re.compile(r"^(?P<base>.+?)\.(?P<n>[1-9]\d{0,5})" + _COMPRESSED + "$")
_DATED = re.compile(r"^(?P<base>.+?)(?:-|\.)(?P<date>(?:19|20)\d\d-?[01]\d-?[0-3]\d(?:[_T-]?\d\d(?:[-:]?\d\d){0,2})?)"
                    + _COMPRESSED + "$")


def generation(name: str) -> tuple[str, tuple] | None:
    """(base name, rank) of a rotated generation, the rank ordering a log's generations oldest first; None else."""
    if not name[-1:].isdigit() and not name.endswith(_ARCHIVES):  # most names: no regex run
        return None
    m = _DATED.match(name)
    if m:
        return m["base"], (0, re.sub(r"\D", "", m["date"]), 0)
    m = _NUMBERED.match(name)
    if m:
        return m["base"], (1, "", -int(m["n"]))
    return None


def reading_order(objects: list) -> list:
    """`objects` (with `.path`, in key order) with each rotated log's generations oldest first, in the same places."""
    gens = {i: g for i, obj in enumerate(objects) if (g := generation(obj.path.rpartition("/")[2])) is not None}
    if not gens:
        return objects
    groups: dict[tuple[str, str], list[int]] = {}
    for i, obj in enumerate(objects):
        folder, _, name = obj.path.rpartition("/")
        groups.setdefault((folder, gens[i][0] if i in gens else name), []).append(i)
    rank = lambda i: gens[i][1] if i in gens else (2, "", 0)  # noqa: E731 - the live log comes last
    out = list(objects)
    for slots in groups.values():
        if len(slots) > 1 and any(i in gens for i in slots):
            for slot, i in zip(slots, sorted(slots, key=rank)):
                out[slot] = objects[i]
    return out
