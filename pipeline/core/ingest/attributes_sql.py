"""The `attributes` column (every field no role maps) built from a few extracted values instead of a JSON merge patch.

`json_merge_patch(raw, patch)` copies each record twice in memory before writing it back, which made it the costliest
part of normalization. Records of the shape the object's sample shows are instead assembled from their unmapped values
(one `json_extract` of those paths, written by the same JSON writer), in exactly the merge patch's order: the record's
unmapped keys in their own order, then each patched parent in the patch's order. A record takes that route only when
its key lists at the top level and in every patched parent (one `json_keys` call) hold nothing but the sample's keys,
in the sample's order, each at most once; every other record gets the merge patch as before, so the text is
byte-identical either way. Parents left empty are dropped as the merge patch's cleanup drops them; the cleanup itself
still runs afterwards on whatever `:{}` the unmapped values carry.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from .mapping import json_path, sql_str

SAMPLE_ROWS = 256
MAX_KEYS = 512  # a level with more sampled keys than this is not assembled (every record takes the merge patch)
SUBSEQ_KEYS = 64  # records missing some of a level's keys are checked key by key only up to this many keys


def sample_dicts(records, n: int = SAMPLE_ROWS) -> list[dict]:
    """Up to n records of a records table, spread over it, parsed (the shape is only a hint: any sample will do)."""
    from .records import load_record

    total = records.num_rows
    col = records.column("raw")
    out = []
    for i in range(0, total, max(1, total // n)):
        v = load_record(col[i].as_py())  # scalar access: `take` would concatenate every chunk
        if isinstance(v, dict):
            out.append(v)
    return out


def _plain(key: str) -> bool:
    """A key the writer prints as `"key"` and a path can name: no quote, backslash or control character."""
    if not key or key == "*" or any(c in key for c in '"\\') or any(ord(c) < 0x20 for c in key):
        return False
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a \ud800 escape
        return False
    return True


def _merged_order(lists: list[tuple[str, ...]]) -> list[str]:
    """One key order consistent with as many sampled orders as possible: each new key goes right after its predecessor
    (so optional keys keep their place); a record disagreeing with the order so far adds nothing."""
    order: list[str] = []
    at: dict[str, int] = {}
    for keys in dict.fromkeys(lists):  # each distinct order once
        pos, placed, ok = -1, [], True
        for k in keys:
            i = at.get(k)
            if i is None:
                placed.append((pos + 1 + len(placed), k))
            elif i <= pos:
                ok = False
                break
            else:
                pos = i
        if ok and placed:
            for where, k in placed:
                order.insert(where, k)
            at = {k: i for i, k in enumerate(order)}
    return order


@dataclass(frozen=True)
class Shape:
    """Sampled key orders: level (key path from the record's root to a patched parent, () for the root) -> keys."""

    levels: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]


def record_shape(samples: list[dict], patch: dict) -> Shape | None:
    """The key order of the root and of every patched parent the sample holds, or None (nothing to assemble)."""
    if not samples or not patch:
        return None
    levels: list[tuple[tuple[str, ...], tuple[str, ...]]] = []

    def visit(level: tuple[str, ...], nodes: list, node_patch: dict) -> None:
        objs = [n for n in nodes if isinstance(n, dict)]
        if any(len(o) > MAX_KEYS for o in objs):
            raise _TooWide
        keys = tuple(k for k in _merged_order([tuple(o) for o in objs]) if _plain(k))
        levels.append((level, keys))
        for k, sub in node_patch.items():
            if isinstance(sub, dict) and k in keys:
                visit(level + (k,), [o.get(k) for o in objs], sub)

    try:
        visit((), samples, patch)
    except _TooWide:
        return None
    return Shape(tuple(levels))


class _TooWide(Exception):
    pass


@dataclass
class FastAttributes:
    """SQL pieces: columns for the first layer (over `raw`), and the `_a` expression (over those columns)."""

    columns: list[str]
    expression: str
    extra: dict[str, int]  # JSON path -> index into `_x`, for values other expressions may reuse

    def value(self, path: str) -> str | None:
        i = self.extra.get(path)
        return None if i is None else f"_x[{i}]"


def fast_attributes(shape: Shape | None, patch: dict, merge_patch_sql: str, also: list[str] = ()) -> FastAttributes | None:
    """`_a` = the merge patch's text, assembled for records of `shape` (else `merge_patch_sql`). `also`: role paths;
    the arrays of names paths among them are extracted too, for `array_names`."""
    if shape is None:
        return None
    canon = dict(shape.levels)
    extra: dict[str, int] = {}

    def x(path: str) -> str:
        if path not in extra:
            extra[path] = len(extra) + 1
        return f"_x[{extra[path]}]"

    def members(level: tuple[str, ...], node_patch: dict) -> list[str]:
        out = []
        for k in canon[level]:
            if k not in node_patch:
                v = x(json_path(*level, k))
                out.append(f"CASE WHEN {v} IS NOT NULL THEN {sql_str(json.dumps(k, ensure_ascii=False) + ':')} || {v} END")
        for k, sub in node_patch.items():
            inner = members(level + (k,), sub) if isinstance(sub, dict) and level + (k,) in canon else []
            if inner:  # a parent with no unmapped key to keep is always emptied, so always dropped
                key = sql_str(json.dumps(k, ensure_ascii=False) + ":{")
                out.append(f"({key} || nullif({_concat(inner)}, '') || '}}')")  # NULL (so dropped) when left empty
        return out

    built = f"concat('{{', {_concat(members((), patch))}, '}}')"
    for p in also:
        if array_parent(p):
            x(array_parent(p))
    paths = [json_path(*lv) for lv, _ in shape.levels]
    want = "[" + ", ".join("[" + ", ".join(sql_str(k) for k in keys) + "]" for _, keys in shape.levels) + "]::VARCHAR[][]"
    # keys that are all sampled ones, each once, in the sampled order (optional ones may be missing)
    subseq = " AND ".join(
        f"(_k[{i}] IS NULL OR list_filter({_list(keys)}, lambda k: list_contains(_k[{i}], k)) = _k[{i}])"
        for i, (_, keys) in enumerate(shape.levels, 1)) if max(len(k) for _, k in shape.levels) <= SUBSEQ_KEYS else "false"
    # only records already read as JSON objects (`_bad` NULL) are parsed again, so no try() is needed (it costs 15%)
    values = f"json_extract(raw, {_list(list(extra))})::VARCHAR[]" if extra else "NULL"
    columns = [f"CASE WHEN _bad IS NULL THEN json_keys(raw, {_list(paths)}) END AS _k",
               f"CASE WHEN _bad IS NULL THEN {values} END::VARCHAR[] AS _x"]
    expression = (f"CASE WHEN _bad IS NOT NULL THEN NULL WHEN _k = {want} THEN {built} "
                  f"WHEN {subseq} THEN {built} ELSE ({merge_patch_sql})::VARCHAR END")
    return FastAttributes(columns, expression, extra)


def array_parent(path: str) -> str | None:
    """`$.a.tools` for `$.a.tools[*]`: a names path whose only wildcard is its last step (and no JSON-string step)."""
    return path[:-3] if path.endswith("[*]") and "*" not in path[:-3] and "|" not in path else None


def array_names(path: str, fast: FastAttributes) -> str | None:
    """The names at `path` (`...[*]`) from the array's extracted text, exactly as `json_extract_string(raw, path)`
    gives them; None when that text is not extracted. A value that is not an array text is read from the record."""
    arr = fast.value(array_parent(path)) if array_parent(path) else None
    if arr is None:
        return None
    each = f"(CASE WHEN starts_with({arr}, '[') THEN json_extract_string({arr}, '$[*]') " \
           f"ELSE try(json_extract_string(raw, {sql_str(path)})) END)"
    return f"list_filter({each}, lambda x: x IS NOT NULL AND x <> '')"


def _concat(parts: list[str]) -> str:
    return f"concat_ws(',', {', '.join(parts)})" if parts else "''"


def _list(items) -> str:
    return "[" + ", ".join(sql_str(i) for i in items) + "]::VARCHAR[]"
