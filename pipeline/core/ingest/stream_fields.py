"""Recorded streams inside records no vendor adapter reads: where a sample holds an SSE transcript or an array of
stream chunks (as an array or as JSON text), every record has it replaced by the one response it streamed (the same
assembly vendor adapters get from `decode_json`), before schema inference, so no role reads a raw transcript or the
first chunk alone.
"""
from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .record_paths import MAX_DECODE_CHARS
from .records import load_record
from .vendors.base import decode_json
from .vendors.streams import assemble

MAX_DEPTH = 16
# text any record holding a stream must contain (a vectorized screen before any record is parsed)
_SCREEN = r'data:|"delta"|"candidates"|content_block|"response\.|"chunk"|"\\u0000|"AAAA|"0000'


def _assembled(v) -> dict | None:
    if isinstance(v, str) and len(v) > MAX_DECODE_CHARS:  # as inference: over the cap a string stays text
        return None
    if isinstance(v, list):
        return assemble(v) if v and isinstance(v[0], (dict, str)) else None
    if isinstance(v, str) and (v.lstrip()[:1] in ("d", "e", "i", ":", "[") or v[:1] == "\x00"
                               or v[:4] in ("AAAA", "0000")):  # SSE, chunk arrays, AWS event-stream bytes
        d = decode_json(v)
        return d if isinstance(d, dict) else None
    return None


def stream_paths(sample: list[dict]) -> set[tuple]:
    """Key tuples (objects only, no array steps) where some sampled record holds a stream."""
    found: set[tuple] = set()

    def walk(obj: dict, keys: tuple, depth: int) -> None:
        for k, v in obj.items():
            if isinstance(v, dict):
                if depth < MAX_DEPTH:
                    walk(v, keys + (k,), depth + 1)
            elif keys + (k,) not in found and _assembled(v) is not None:
                found.add(keys + (k,))

    for rec in sample:
        if isinstance(rec, dict):
            walk(rec, (), 0)
    return found


def _apply(rec: dict, paths: set[tuple]) -> bool:
    changed = False
    for keys in paths:
        node = rec
        for k in keys[:-1]:
            node = node.get(k) if isinstance(node, dict) else None
        if isinstance(node, dict) and keys[-1] in node:
            d = _assembled(node[keys[-1]])
            if d is not None:
                node[keys[-1]] = d
                changed = True
    return changed


def assemble_streams(records: pa.Table, sample: list[dict]) -> tuple[pa.Table, list[dict]]:
    """Records and sample with their streams assembled (both returned as they are when the sample holds none: the
    cost for other files is one walk of the sample)."""
    paths = stream_paths(sample)
    if not paths or records.num_rows == 0:
        return records, sample
    for rec in sample:
        if isinstance(rec, dict):
            _apply(rec, paths)
    raw = records.column("raw")
    hits = pc.fill_null(pc.match_substring_regex(raw, _SCREEN), False)  # rows that may hold one; only they are parsed
    texts = raw.to_pylist()
    for i in np.flatnonzero(hits.to_numpy(zero_copy_only=False)).tolist():
        rec = load_record(texts[i])
        if isinstance(rec, dict) and _apply(rec, paths):
            texts[i] = json.dumps(rec, ensure_ascii=False)
    col = records.schema.get_field_index("raw")
    return records.set_column(col, records.schema.field(col), pa.array(texts, pa.large_string())), sample
