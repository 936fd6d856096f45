"""Value evidence for schema inference: flattening records into paths and judging how a path's values suit each role."""
from __future__ import annotations

import json
import math
import re
import statistics

from .mapping import DURATION_TEXT, NULL_TOKENS, json_path
from .record_paths import flatten

_ISO = re.compile(r"^\d{4}[-/]\d{2}[-/]\d{2}([T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?\s*(Z|UTC|[+-]\d{2}(:?\d{2})?)?$")
_DURATION = re.compile(DURATION_TEXT, re.IGNORECASE)
_EPOCHS = ((1e9, 4e9), (1e12, 4e12), (1e15, 4e15), (1e18, 4e18))
# Words that are statuses or settings, never model text nor ids ("OK" is an HTTP reason phrase, "enabled" a setting)
STATUS_WORDS = frozenset((
    "ok", "okay", "success", "succeeded", "successful", "error", "failed", "failure", "fail", "done", "true", "false",
    "yes", "no", "none", "null", "enabled", "disabled", "on", "off", "pending", "running", "completed", "complete",
    "created", "accepted", "bad request", "not found", "unauthorized", "forbidden", "internal server error", "default",
    "stop", "length", "end_turn", "tool_use", "tool_calls", "active", "inactive", "unknown", "n/a", "na", "-"))
_IDLIKE = re.compile(r"\d|[-_:./][A-Za-z0-9]")
# ancestors that put a path on the request side (what was sent or offered) or the response side (what came back)
REQUEST_SIDE = frozenset(("request", "req", "request_body", "params", "parameters", "kwargs", "invocation_params",
                          "model_parameters", "inference_config", "guardrail_config", "config", "settings"))
RESPONSE_SIDE = frozenset(("response", "resp", "response_body", "result", "results", "output", "outputs",
                           "completion", "choices", "candidates"))


def _has_text(x, depth: int = 0) -> bool:
    """Whether a container holds any string value of some length (token-usage details and counters hold none)."""
    if depth > 16:
        return False
    if isinstance(x, str):
        return len(x.strip()) >= 3 and _num(x) is None
    if isinstance(x, dict):
        return any(_has_text(v, depth + 1) for v in x.values())
    if isinstance(x, list):
        return any(_has_text(v, depth + 1) for v in x[:20])
    return False


def _is_null(v) -> bool:
    return v is None or (isinstance(v, str) and v.strip().lower() in NULL_TOKENS)


def _jtype(v) -> str:
    if v is None:
        return "null"
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object"}.get(type(v), "string")


def _num(v) -> float | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v) if math.isfinite(v) else None
    if isinstance(v, str):
        try:
            f = float(v.strip())
            return f if math.isfinite(f) else None
        except ValueError:
            return None
    return None


class FieldValues:
    """A flattened path's values across the sample, with the value statistics role fits are judged on."""

    def __init__(self, keys: tuple, n_records: int):
        self.keys, self.n_records = keys, n_records
        self.values: list = []  # non-null values ([*] paths: their element values, flattened)
        self.rows: list[int] = []  # record indexes where the path is present
        self.types: dict[str, int] = {}
        self.path = json_path(*keys)
        self.many = "*" in keys
        self._stats: dict | None = None

    def add(self, i: int, v) -> None:
        self.rows.append(i)
        for x in v if self.many else [v]:
            t = _jtype(x)
            self.types[t] = self.types.get(t, 0) + 1
            if not _is_null(x):
                self.values.append(x)

    def stats(self) -> dict:
        if self._stats is not None:
            return self._stats
        vals, nums, lens, reprs = self.values, [], [], set()
        c = dict.fromkeys(("str", "bool", "arr", "arr_str", "arr_obj", "obj", "ts", "epoch", "textless", "word",
                           "idlike", "dur"), 0)
        for x in vals:
            if isinstance(x, (list, dict)):
                r = json.dumps(x, sort_keys=True)
                kind = "obj" if isinstance(x, dict) else "arr"
                c[kind] += 1
                c["textless"] += not _has_text(x)
                if kind == "arr":
                    c["arr_str"] += all(isinstance(e, str) for e in x)
                    c["arr_obj"] += bool(x) and isinstance(x[0], dict)
            else:
                r = x if isinstance(x, str) else json.dumps(x)
                f = _num(x)
                if f is not None:
                    nums.append(f)
                    c["epoch"] += any(lo <= abs(f) < hi for lo, hi in _EPOCHS)
                    c["idlike"] += 1
                elif isinstance(x, bool):
                    c["bool"] += 1
                else:
                    c["str"] += 1
                    c["bool"] += x.strip().lower() in ("true", "false")
                    c["ts"] += bool(_ISO.match(x.strip()))
                    c["word"] += x.strip().lower() in STATUS_WORDS
                    c["dur"] += bool(_DURATION.match(x))  # "1.2s", "350ms": a duration with its unit
                    c["idlike"] += bool(_IDLIKE.search(x)) or len(x) >= 16
            reprs.add(r)
            lens.append(len(r))
        n = len(vals) or 1
        st = {k: v / n for k, v in c.items()}
        st["ts"] += st["epoch"]
        st.update(n=len(vals), num=len(nums) / n, int=sum(x.is_integer() for x in nums) / (len(nums) or 1),
                  med=statistics.median(nums) if nums else None, min=min(nums) if nums else None,
                  len=statistics.median(lens) if lens else 0, distinct=len(reprs) / n, k=len(reprs))
        self._stats = st
        return st


MAX_DEPTH = 64  # nesting bound (recursion safety); the field budget is what bounds the work
FIELD_BUDGET = 4000  # distinct paths profiled over a sample; beyond it new paths are ignored and a note is kept


class Collected(list):
    """The profiled fields, plus whether the field budget cut the profile short and which JSON strings were too long
    to decode."""

    budget_hit: bool = False
    too_long: tuple = ()
    lists: frozenset = frozenset()  # key tuples whose strings held JSON arrays (read on with a DECODE step)


def collect(records: list[dict], max_depth: int = MAX_DEPTH, budget: int = FIELD_BUDGET) -> Collected:
    fields: dict[tuple, FieldValues] = {}
    hit, skipped, lists = False, set(), set()
    for i, rec in enumerate(records):
        flat: dict = {}
        flatten(rec, (), 1, max_depth, flat, True, skipped, lists)
        for keys, v in flat.items():
            f = fields.get(keys)
            if f is None:
                if len(fields) >= budget:
                    hit = True
                    continue
                f = fields[keys] = FieldValues(keys, len(records))
            f.add(i, v)
    out = Collected(fields.values())
    out.budget_hit = hit
    out.too_long, out.lists = tuple(sorted(skipped)), frozenset(lists)
    return out


def _pct(x: float) -> str:
    return f"{x:.0%}"


def value_fit(role: str, st: dict, many: bool = False) -> tuple[float, str]:
    """How well a field's values suit a role, in [0, 1], with a short reason."""
    if st["n"] == 0:
        return 0.0, "no values"
    if many or role in ("tool_calls", "branch_path"):
        if many:
            return st["str"] + st["num"], f"{_pct(st['str'])} of element values are names"
        if st["arr_str"]:
            return st["arr_str"], f"{_pct(st['arr_str'])} arrays of strings"
        return 0.7 * st["str"] * (st["len"] <= 200), "name lists as strings"
    short = st["len"] <= 128 and not st["arr"] and not st["obj"]
    cat = st["k"] <= max(20, 0.1 * st["n"]) and st["len"] <= 64 and short
    if role == "ts":
        return st["ts"], f"{_pct(st['ts'])} parse as timestamps" + (" (epoch numbers)" if st["epoch"] > 0.5 else "")
    if role in ("latency_ms", "ttft_ms") and st["dur"] > st["num"]:
        return st["dur"], f"{_pct(st['dur'])} durations with their unit"
    if role in ("latency_ms", "cost_usd", "prompt_tokens", "completion_tokens"):
        fit = st["num"] * (1.0 if (st["min"] or 0) >= 0 else 0.3) * (0.1 if st["epoch"] > 0.5 else 1.0) * (1 - st["bool"])
        if role.endswith("tokens"):
            fit *= st["int"]
        if role == "cost_usd" and (st["med"] or 0) > 1000:
            fit *= 0.3
        return fit, f"{_pct(st['num'])} numeric, median {st['med']:g}" if st["med"] is not None else "not numeric"
    if role in ("input", "output", "error"):
        arr_w = {"input": 1.0, "output": 0.5, "error": 0.5}[role]
        fit = st["str"] + arr_w * st["arr"] + 0.6 * st["obj"]
        fit *= 1.0 if st["len"] >= 5 else 0.7
        fit *= 1 - st["textless"]  # counters and usage details are not text
        if role != "error":
            fit *= 1 - st["word"]  # status words ("OK") are not model text
        what = f"{_pct(st['arr'])} arrays" if st["arr"] > st["str"] else f"{_pct(st['str'])} text"
        return min(fit, 1.0), f"{what}, median length {st['len']:g}"
    if role in ("request_id", "trace_id"):
        fit = (1 - st["arr"] - st["obj"]) * min(1.0, st["distinct"] / 0.9) * (st["len"] <= 128) * (1 - st["bool"])
        fit *= st["idlike"] * (1 - st["word"])  # ids have digits or separators; "enabled" is no id
        return fit, f"{_pct(st['distinct'])} distinct, {_pct(st['idlike'])} id-like"
    if role in ("session_id", "user_id"):
        iso = max(0.0, st["ts"] - st["epoch"])  # a 10-digit numeric id is an id, not an epoch time
        return float(short) * (1 - st["bool"]) * (1 - iso) * (1 - st["word"]), f"{st['k']} distinct short values"
    if role == "status":
        codes = st["med"] is not None and 100 <= st["med"] < 600
        fit = max(st["bool"], float(cat), float(codes and st["int"] > 0.9))
        return fit, f"{st['k']} distinct values" + (" (booleans)" if st["bool"] > 0.5 else "")
    if role == "outcome":
        return max(st["bool"], float(cat)), f"{st['k']} distinct values"
    fit = float(cat) * (1 - st["bool"]) * (1 - st["num"] if role in ("model", "provider", "environment") else 1.0)
    return fit, f"{st['k']} distinct values"  # model, provider, service, version, environment


def value_kind(values: list) -> str:
    """A coarse kind for a list of raw values: timestamp, number, boolean, text, array, object or empty."""
    f = FieldValues(("v",), len(values))
    for i, v in enumerate(values):
        f.add(i, v)
    st = f.stats()
    if st["n"] == 0:
        return "empty"
    for kind, key in (("timestamp", "ts"), ("boolean", "bool"), ("number", "num"), ("array", "arr"), ("object", "obj")):
        if st[key] >= 0.8:
            return kind
    return "text"
