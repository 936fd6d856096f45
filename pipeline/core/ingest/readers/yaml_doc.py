"""YAML documents holding records (VCR / openllmetry cassettes: `interactions: [{request, response}]`) -> records.

Only safe YAML is loaded (no tags, no objects). A document whose records cannot be found is one reject, named.
"""
from __future__ import annotations

import re

from ..records import ParsedRecords, Reject, empty_records, records_from_dicts
from ..vendors.eventstream import looks_like_eventstream

_YAML_HEAD = re.compile(rb"^(?:---\s*\n|%YAML|[A-Za-z_][\w-]*:\s*\n(?:-|\s))")


MAX_INFLATED = 16 * 1024 * 1024


MAX_NODES = 2_000_000  # values after alias expansion: a "billion laughs" document is refused, not expanded


class _TooLarge(Exception):
    pass


def _texts(v, budget: list):
    """!!binary values (cassettes store gzip-compressed bodies so) -> text: inflated when gzip, bounded in size; AWS
    event-stream bytes as latin-1 text (every byte kept)."""
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooLarge
    if isinstance(v, (bytes, bytearray)):
        import zlib

        data = bytes(v)
        if data[:2] == b"\x1f\x8b":
            try:
                d = zlib.decompressobj(16 + zlib.MAX_WBITS)
                data = d.decompress(data, MAX_INFLATED)
            except zlib.error:
                pass
        if looks_like_eventstream(data):  # binary frames kept byte for byte (latin-1) for the stream assembly
            return data.decode("latin-1")
        return data.decode("utf-8", "replace")
    if isinstance(v, dict):
        return {k: _texts(x, budget) for k, x in v.items()}
    if isinstance(v, list):
        return [_texts(x, budget) for x in v]
    return v


def looks_like_yaml(head: bytes, name: str = "") -> bool:
    return name.lower().endswith((".yaml", ".yml")) or bool(_YAML_HEAD.match(head.lstrip(b"\xef\xbb\xbf")))


def read_yaml_records(data: bytes, source: str) -> ParsedRecords | None:
    """Records of a YAML document (a list of mappings, or a mapping with one such list); None if it is not YAML."""
    import yaml

    try:
        doc = yaml.safe_load(data.decode("utf-8-sig", errors="strict"))
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError):
        return None
    try:
        doc = _texts(doc, [MAX_NODES])
    except (_TooLarge, RecursionError):
        return ParsedRecords(empty_records(), [Reject(source, 1, "YAML document too large once its aliases are "
                                                                  "expanded", data[:1_000_000])], "yaml", len(data))
    items = doc if isinstance(doc, list) else None
    if isinstance(doc, dict):
        lists = [v for v in doc.values() if isinstance(v, list) and v and all(isinstance(x, dict) for x in v)]
        items = lists[0] if len(lists) == 1 else [doc]
    if not items or not all(isinstance(x, dict) for x in items):
        return ParsedRecords(empty_records(), [Reject(source, 1, "YAML document without records", data[:1_000_000])],
                             "yaml", len(data))
    return ParsedRecords(records_from_dicts(source, [(i, 0, x) for i, x in enumerate(items, start=1)]), [], "yaml",
                         len(data))
