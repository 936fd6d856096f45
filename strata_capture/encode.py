"""Fast JSON text for the hot path: flat dicts and lists of str/int/float/bool/None are written with the C string
escaper directly (a fraction of `json.dumps`' per-call setup); anything else goes through one prebuilt encoder."""
from __future__ import annotations

import json
import math
from json.encoder import encode_basestring as esc  # the C escaper (ensure_ascii=False flavour)
from typing import Any, Callable


def make_dumps(default: Callable[[Any], Any]) -> Callable[[Any], str]:
    """A `dumps(value)` using `default` for objects JSON cannot encode (raises like json.dumps on cycles)."""
    encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=default)

    def scalar(v: Any) -> str | None:
        t = type(v)
        if t is str:
            return esc(v)
        if t is int:
            return int.__repr__(v)
        if v is None:
            return "null"
        if t is bool:
            return "true" if v else "false"
        if t is float:
            return float.__repr__(v) if math.isfinite(v) else encoder.encode(v)
        return None

    def dumps(value: Any) -> str:
        t = type(value)
        if t is dict:
            parts = []
            for k, v in value.items():
                if type(k) is not str:
                    return encoder.encode(value)
                s = scalar(v)
                if s is None:
                    return encoder.encode(value)
                parts.append(esc(k) + ":" + s)
            return "{" + ",".join(parts) + "}"
        if t is list or t is tuple:
            parts = []
            for v in value:
                s = scalar(v)
                if s is None:
                    return encoder.encode(value)
                parts.append(s)
            return "[" + ",".join(parts) + "]"
        s = scalar(value)
        return s if s is not None else encoder.encode(value)

    return dumps
