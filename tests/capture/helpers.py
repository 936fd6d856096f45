"""Shared helpers for the capture tests: read a published drop back as flat span dicts."""
from __future__ import annotations

import glob
import gzip
import json
import os


def value_of(v: dict):
    if "arrayValue" in v:
        return [value_of(x) for x in v["arrayValue"].get("values", [])]
    (kind, raw), = v.items()
    return int(raw) if kind == "intValue" else raw


def published_docs(drop_dir: str) -> list[dict]:
    docs = []
    for path in sorted(glob.glob(os.path.join(drop_dir, "capture-*", "*.gz"))):
        with gzip.open(path, "rt") as f:
            docs.extend(json.loads(line) for line in f)
    return docs


def published_spans(drop_dir: str) -> list[dict]:
    """Every published span: name, ids, parent, attrs (flattened), status, resource."""
    out = []
    for doc in published_docs(drop_dir):
        for block in doc["resourceSpans"]:
            resource = {a["key"]: value_of(a["value"]) for a in block["resource"]["attributes"]}
            for scope in block["scopeSpans"]:
                for s in scope["spans"]:
                    out.append({"name": s["name"], "trace": s["traceId"], "span": s["spanId"],
                                "parent": s.get("parentSpanId"), "start": int(s["startTimeUnixNano"]),
                                "end": int(s["endTimeUnixNano"]), "status": s.get("status", {}),
                                "attrs": {a["key"]: value_of(a["value"]) for a in s["attributes"]},
                                "resource": resource})
    return out


def ingest_one_drop(drops_dir: str, lake_dir: str) -> list[dict]:
    """The one drop the SDK published under `drops_dir`, ingested into `lake_dir` with no rejects: its entries."""
    from pipeline.core.ingest.drop_ingest import ingest_drop
    from pipeline.core.storage.drops import list_drops
    from pipeline.core.storage.lake import read_entries

    [drop] = list_drops(drops_dir)
    result = ingest_drop(drop.url, lake_dir, drop.key)
    assert result.result.summary()["rows_rejected"] == 0
    return read_entries(lake_dir, drop.key).to_pylist()
