"""Fast JSON text for the hot path: CPython's C encoder built once (`json.dumps` rebuilds it on every call), compact
separators, no ASCII escaping. Cycles raise RecursionError/ValueError; callers fall back to a careful walk."""
from __future__ import annotations

import json
from json.encoder import encode_basestring as esc  # the C escaper (ensure_ascii=False flavour)
from typing import Any, Callable

try:
    from json.encoder import c_make_encoder
except ImportError:  # pragma: no cover - interpreters without the C accelerator
    c_make_encoder = None


def make_dumps(default: Callable[[Any], Any]) -> Callable[[Any], str]:
    """A `dumps(value)` using `default` for objects JSON cannot encode."""
    if c_make_encoder is not None:
        # markers=None: no per-call cycle bookkeeping; a cycle ends in RecursionError, which callers catch
        encoder = c_make_encoder(None, default, esc, None, ":", ",", False, False, True)
        return lambda value: "".join(encoder(value, 0))
    fallback = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=default)
    return fallback.encode


__all__ = ["esc", "make_dumps"]
