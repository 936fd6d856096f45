"""Detector state to and from JSON. States are plain dicts of numbers, lists and strings; floats round-trip
exactly (Python writes the shortest repr), non-finite floats and numpy values are encoded so the text is strict JSON."""
from __future__ import annotations

import json
import math

import numpy as np

FORMAT = "strata.detector_state"
VERSION = 1
_NONFINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def _encode(obj):
    if isinstance(obj, dict):
        return {str(k): _encode(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, np.ndarray)):
        return [_encode(v) for v in (obj.tolist() if isinstance(obj, np.ndarray) else obj)]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        v = float(obj)
        return v if math.isfinite(v) else {"$float": "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")}
    if obj is None or isinstance(obj, str):
        return obj
    raise TypeError(f"detector state holds a {type(obj).__name__}, which has no JSON form")


def _decode(obj):
    if isinstance(obj, dict):
        if set(obj) == {"$float"}:
            return _NONFINITE[obj["$float"]]
        return {k: _decode(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode(v) for v in obj]
    return obj


def to_plain(state: dict) -> dict:
    """The state as JSON-ready plain data (numpy arrays and scalars become lists and Python numbers)."""
    return _encode(state)


def dumps_state(state: dict, indent: int | None = None) -> str:
    return json.dumps({"format": FORMAT, "version": VERSION, "state": _encode(state)},
                      indent=indent, allow_nan=False, sort_keys=False)


def loads_state(text: str | bytes) -> dict:
    doc = json.loads(text)
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError("not a Strata detector state (missing format marker)")
    if doc.get("version") != VERSION:
        raise ValueError(f"detector state version {doc.get('version')} is not supported (expected {VERSION})")
    return _decode(doc["state"])
