"""Record paths for inference: flattening a record into key tuples, reading JSON held in strings on the way."""
from __future__ import annotations

from .mapping import DECODE, json_path
from .records import load_record

UNADDRESSABLE = ("", "*")  # keys a role path cannot name (the empty key; "*" is the array wildcard)
MAX_DECODE_CHARS = 1 << 20  # a longer JSON string is profiled as the string it is (noted), never parsed
_OPENERS = {False: "{[ \t\r\n", True: '"{[ \t\r\n'}  # first characters of JSON text: objects and arrays (, strings)
_ENDS = {False: (("{", "}"), ("[", "]")), True: (("{", "}"), ("[", "]"), ('"', '"'))}


def decoded_json(v, skipped: set | None = None, keys: tuple = (), limit: int | None = MAX_DECODE_CHARS,
                 strings: bool = False):
    """The object or array a string holds as JSON (`{...}` / `[...]`), else None: invalid JSON stays a string.

    The one decoder of JSON held in strings (inference here, vendor adapters through `vendors.base.decode_json`):
    NaN/Infinity and overflowing numbers read as null, as in records; a string over `limit` characters is not parsed
    (its path goes to `skipped`); `strings` also undoes a JSON string literal ('"{...}"' -> '{...}': double encoding).
    """
    if not isinstance(v, str) or len(v) < 2 or v[0] not in _OPENERS[strings]:  # most strings end here, copy-free
        return None
    s = v.strip()
    if not s or (s[0], s[-1]) not in _ENDS[strings]:
        return None
    if limit is not None and len(s) > limit:
        if skipped is not None:
            skipped.add(json_path(*keys))
        return None
    d = load_record(s)
    return d if isinstance(d, (dict, list)) or (strings and isinstance(d, str)) else None


def flatten(obj: dict, prefix: tuple, depth: int, max_depth: int, out: dict, arrays: bool = True,
            skipped: set | None = None, lists: set | None = None) -> None:
    """Key tuples -> values; objects are walked, arrays are leaves, and arrays of objects also give their first
    element's paths under 0 and every element's values (as lists) under "*" (how tool names are found).

    A string holding a JSON object or array (a body stored as text, a log line's JSON `message`) is read as that JSON
    under a DECODE step, after the record's own fields (so its paths never crowd them out of the field budget): an
    object is walked (the string itself stays a leaf too), an array replaces the string as the leaf (its keys go to
    `lists`; paths too long to decode go to `skipped`). Strings inside arrays (tool-call arguments, message parts)
    are not decoded: they are the model's data, not the log's structure."""
    later: list = []
    _walk(obj, prefix, depth, max_depth, out, arrays, later, skipped)
    while later:
        keys, d, dep = later.pop(0)
        if isinstance(d, dict):
            _walk(d, keys + (DECODE,), dep + 1, max_depth, out, True, later, skipped)
        else:
            out[keys] = d
            if lists is not None:
                lists.add(keys)
            _elements(d, keys + (DECODE,), dep, max_depth, out)


def _walk(obj: dict, prefix: tuple, depth: int, max_depth: int, out: dict, arrays: bool, later: list,
          skipped: set | None = None) -> None:
    in_array = any(isinstance(k, int) or k == "*" for k in prefix)
    for k, v in obj.items():
        if k in UNADDRESSABLE:  # no JSON path can name it apart from an array wildcard: left in `attributes`
            continue
        keys = prefix + (k,)
        if isinstance(v, dict) and v and depth < max_depth:
            _walk(v, keys, depth + 1, max_depth, out, arrays, later, skipped)
            continue
        out[keys] = v
        if isinstance(v, str) and not in_array and depth < max_depth:
            d = decoded_json(v, skipped, keys)
            if d:  # an empty object or array has nothing to read on
                later.append((keys, d, depth))
        if arrays:
            _elements(v, keys, depth, max_depth, out)


def _elements(v, keys: tuple, depth: int, max_depth: int, out: dict) -> None:
    if isinstance(v, list) and v and isinstance(v[0], dict) and depth < max_depth:
        _walk(v[0], keys + (0,), depth, max_depth, out, True, [])
        elems: dict = {}
        for e in v:
            sub: dict = {}
            if isinstance(e, dict):
                _walk(e, keys + ("*",), depth, max_depth, sub, False, [])
            for p, x in sub.items():
                elems.setdefault(p, []).append(x)
        out.update(elems)
