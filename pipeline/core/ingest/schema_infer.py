"""Schema inference: decides which raw field plays each canonical role from field names and value shapes in a sample."""
from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass

from ..entry_schema import ROLE_KINDS
from .field_values import REQUEST_SIDE, RESPONSE_SIDE, FieldValues, collect, value_fit, value_kind
from .mapping import DECODE, FieldSource, Mapping, json_path
from .record_paths import MAX_DECODE_CHARS
from .role_names import ROLE_NAMES, is_log_level, level_scale, name_scores, snake, unit_scale

MIN_CONFIDENCE = 0.3
DECODED_WHOLE = 0.85  # score factor for a string read as a JSON object, taken whole (its fields are candidates too)


@dataclass
class FieldProfile:
    path: str
    types: dict[str, int]
    present: float
    distinct_ratio: float
    examples: list[str]


@dataclass
class RoleAssignment:
    role: str
    path: str
    confidence: float
    evidence: str
    transform: str = "auto"
    scale: float = 1.0


@dataclass
class InferredSchema:
    mapping: Mapping
    assignments: list[RoleAssignment]
    fields: list[FieldProfile]
    sample_size: int
    left_empty: dict | None = None  # role -> why no field qualified (best candidate below the confidence floor)
    notes: list | None = None

    def to_dict(self) -> dict:
        return {"mapping": self.mapping.to_dict(), "assignments": [asdict(a) for a in self.assignments],
                "fields": [asdict(f) for f in self.fields], "sample_size": self.sample_size,
                "left_empty": self.left_empty or {}, "notes": self.notes or []}


def _profile(f: FieldValues) -> FieldProfile:
    ex = list(dict.fromkeys(x if isinstance(x, str) else json.dumps(x) for x in f.values[:50]))[:3]
    st = f.stats()
    return FieldProfile(f.path, dict(f.types), round(len(f.rows) / (f.n_records or 1), 4),
                        round(st["distinct"] if st["n"] else 0.0, 4), [e[:60] for e in ex])


def profile_fields(records: list[dict], max_depth: int = 64) -> list[FieldProfile]:
    """Per flattened JSONPath: value types, presence, distinct ratio and examples (nested objects are walked)."""
    return [_profile(f) for f in collect([r for r in records if isinstance(r, dict)], max_depth)]


def score_field(f: FieldValues, role: str, st: dict) -> tuple[float, str]:
    """Confidence that `f` plays `role`: name strength scaled by value fit (values alone only vouch for timestamps)."""
    if f.many and role not in LIST_ROLES:
        return 0.0, ""
    name, why = name_scores(f.keys).get(role, (0.0, ""))
    scale = level_scale(f.keys[-1], f.values) if role == "status" and name else None
    if role == "status" and name and st["num"] > 0.5 and (scale or is_log_level(f.keys[-1])):
        # numeric levels (pino's 30/50, syslog's 0-7, OTel's 1-24) are read on their own scale; the status transform
        # reads numbers as HTTP codes (all "ok" here), so a level on no known scale is no status: none beats a wrong one
        return (name, f"{why}; numeric levels on the {scale} scale") if scale else (
            0.0, f"{why}; numeric log levels are not HTTP status codes")
    vf, vwhy = value_fit(role, st, f.many)
    if name:
        score = name * (0.2 + 0.8 * vf)
    elif role == "ts":  # values alone vouch for ISO timestamps, never for bare numbers that happen to be epoch-sized
        score, why = 0.6 * max(0.0, st["ts"] - st["epoch"]), "no name match"
    else:
        score, why = 0.2 * vf, "no name match"
    if role != "error":
        score *= 0.9 + 0.1 * len(f.rows) / (f.n_records or 1)
    if role == "tool_calls" and _definition_list(f.keys):
        score *= 0.3
        vwhy = f"{vwhy}; a tool definition list (tools offered, not called)"
    side, note = _side(f.keys)
    if (side == "request" and role in _RESPONSE_ROLES) or (side == "response" and role == "input"):
        score *= 0.25
        vwhy = f"{vwhy}; on the {side} side ({note})"
    return min(1.0, score), f"{why}; {vwhy}"


LIST_ROLES = ("tool_calls", "branch_path")  # roles read as a list of names
_RESPONSE_ROLES = ("output", "tool_calls", "completion_tokens", "error")
_DEFINITIONS = ("tools", "functions", "tool_definitions", "available_tools", "tool_config")


def _definition_list(keys: tuple) -> bool:
    """tools[*].name / tools[*].function.name / functions[*].name: the tools a request offers."""
    names = [snake(k) for k in keys if isinstance(k, str) and k != "*"]
    return len(names) >= 2 and names[-1] == "name" and any(n in _DEFINITIONS for n in names[:-1])


def _side(keys: tuple) -> tuple[str | None, str]:
    """Whether an ancestor puts the path on the request side (sent/offered) or the response side."""
    for k in keys[:-1]:
        s = snake(k) if isinstance(k, str) else ""
        ends = (s.split("_")[0], s.split("_")[-1])  # request_json, raw_request, llm_response, resp_body
        if s in REQUEST_SIDE or any(w in ("request", "req") for w in ends):
            return "request", f"under '{k}'"
        if s in RESPONSE_SIDE or any(w in ("response", "resp") for w in ends):
            return "response", f"under '{k}'"
    return None, ""


def _latency_scale(f: FieldValues, st: dict) -> tuple[float, str]:
    """Multiplier to milliseconds: from a unit suffix, else from the median's magnitude."""
    named = unit_scale(f.keys[-1])
    if named:
        return named[0], f"unit '{named[1]}' from the name"
    med = st["med"] or 0
    bands = ((60, 1000.0, "seconds"), (1e6, 1.0, "already ms"), (1e9, 1e-3, "microseconds"), (math.inf, 1e-6, "nanoseconds"))
    for lim, s, unit in bands:
        if med < lim:
            return s, f"{unit} by magnitude"
    return 1.0, ""


def field_role(keys: tuple, values: list) -> tuple[str | None, float]:
    """Best role for one path given its values (used by schema-evolution to tell whether two paths look alike)."""
    f = FieldValues(tuple(keys), len(values))
    for i, v in enumerate(values):
        f.add(i, v)
    st = f.stats()
    best = max(((score_field(f, r, st)[0], r) for r in ROLE_NAMES), default=(0.0, None))
    return (best[1], best[0]) if best[0] >= MIN_CONFIDENCE else (None, best[0])


def _rows_overlap(a: FieldValues, b: FieldValues) -> float:
    sa, sb = set(a.rows), set(b.rows)
    return len(sa & sb) / (min(len(sa), len(sb)) or 1)


def _takes_over(a: FieldValues, b: FieldValues, n: int) -> bool:
    """b replaces a (or a replaces b) at one point of the sample: each sits on its own side of the switch."""
    before, after = (a, b) if a.rows[0] <= b.rows[0] else (b, a)
    last = before.rows[-1]
    return sum(r > last for r in after.rows) >= 0.98 * len(after.rows) and abs(after.rows[0] - last) <= max(2, 0.02 * n)


def _renamed(
    f: FieldValues, role: str, fields: list[FieldValues], stats: dict, used: set, n: int
) -> list[tuple[FieldValues, float, str]]:
    """Unnamed fields that take over from `f` mid-sample with values alike: a rename nothing in the new name reveals
    (seen in 3 records at least: one odd line after the last of a kind is no rename)."""
    out = []
    for g in fields:
        if g.path in used or g.many or name_scores(g.keys) or len(g.rows) < max(3, 0.05 * n) or _rows_overlap(f, g) > 0.02:
            continue
        fit = value_fit(role, stats[g.path])[0]
        if fit >= 0.8 and _takes_over(f, g, n) and value_kind(f.values[:200]) == value_kind(g.values[:200]):
            out.append((g, round(0.6 * fit, 3), f"takes over from `{f.path}` mid-sample with alike values (renamed?), coalesced"))
    return out


def infer_schema(records: list[dict], overrides: Mapping | None = None) -> InferredSchema:
    """Assign each role its best raw field (confidence >= 0.3); complementary fields (renames) are coalesced; config wins."""
    records = [r for r in records if isinstance(r, dict)]
    fields = collect(records)
    stats = {f.path: f.stats() for f in fields}
    fixed = dict(overrides.roles) if overrides else {}
    used = set(overrides.mapped_paths()) if overrides else set()
    cands = []
    below: dict[str, tuple[float, str, str]] = {}
    decoded = {f.keys[:i]: f.keys[i + 1] for f in fields for i, k in enumerate(f.keys[:-1]) if k is DECODE}
    holders = {k for k, nxt in decoded.items() if nxt != "*" and not isinstance(nxt, int)}  # JSON objects, not arrays
    for f in fields:
        if f.path in used:
            continue
        for role in ROLE_NAMES:
            if role not in fixed:
                sc, ev = score_field(f, role, stats[f.path])
                if f.keys in holders:  # the JSON object's own fields (choices[0].message.content) are preferred
                    sc, ev = sc * DECODED_WHOLE, f"{ev}; a JSON string whose fields are read too"
                if sc >= MIN_CONFIDENCE:
                    cands.append((sc, len(f.rows), -len(f.path), role, f, ev))
                elif sc > below.get(role, (0.0,))[0] and name_scores(f.keys).get(role):
                    below[role] = (sc, f.path, ev)
    cands.sort(key=lambda c: c[:3], reverse=True)
    chosen: dict[str, list[tuple[FieldValues, float, str]]] = {}
    for sc, _, _, role, f, ev in cands:
        if role not in chosen and f.path not in used:
            chosen[role] = [(f, sc, ev)]
            used.add(f.path)
    for sc, _, _, role, g, ev in cands:  # renamed or alternative fields present where the chosen one is absent
        if role in chosen and g.path not in used and name_scores(g.keys).get(role, (0,))[0] >= 0.5:
            if all(_rows_overlap(f, g) <= 0.02 for f, _, _ in chosen[role]):
                prim = chosen[role][0][0]
                chosen[role].append((g, sc, f"{ev}; present where `{prim.path}` is absent (renamed?), coalesced"))
                used.add(g.path)
    for role, items in chosen.items():
        extra = _renamed(items[0][0], role, fields, stats, used, len(records))
        items += extra
        used.update(g.path for g, _, _ in extra)
    srcs: dict[str, list[tuple[FieldSource, RoleAssignment]]] = {}
    for role, items in chosen.items():
        items.sort(key=lambda t: sum(t[0].rows) / (len(t[0].rows) or 1), reverse=True)  # newest name first
        for f, sc, ev in items:
            scale, transform, path = 1.0, "auto", f.path
            if role in ("latency_ms", "ttft_ms") and stats[f.path]["dur"] > stats[f.path]["num"]:
                transform, ev = "duration_text", f"{ev} -> ms from each value's unit"
            elif role in ("latency_ms", "ttft_ms"):
                scale, unit = _latency_scale(f, stats[f.path])
                ev = f"{ev} -> {unit}" + (f" (x{scale:g})" if scale != 1.0 else "")
            if role == "status" and (level := level_scale(f.keys[-1], f.values)):
                transform, ev = level, f"{ev} -> {level}"
            if role == "cost_usd" and "cents" in snake(f.keys[-1]):
                scale, ev = 0.01, f"{ev} -> cents (x0.01)"
            if role in LIST_ROLES and not f.many and stats[f.path]["arr"]:
                path = json_path(*f.keys, *((DECODE,) if f.keys in fields.lists else ()), "*")
            srcs.setdefault(role, []).append(
                (FieldSource(path, transform, scale), RoleAssignment(role, path, round(sc, 3), ev, transform, scale)))
    if "latency_ms" not in srcs and "latency_ms" not in fixed:
        _add_duration(fields, stats, srcs, used)
    roles = {r: [s for s, _ in v] for r, v in srcs.items()}
    assignments = [a for r in ROLE_KINDS for _, a in srcs.get(r, [])]
    for role, fsrcs in fixed.items():
        roles[role] = list(fsrcs)
        assignments += [RoleAssignment(role, s.path, 1.0, "set in config", s.transform, s.scale) for s in fsrcs]
    mapping = Mapping(roles, dict(overrides.constants) if overrides else {})
    left_empty = {r: f"best candidate `{p}` scored {sc:.2f} < {MIN_CONFIDENCE} ({ev})"
                  for r, (sc, p, ev) in below.items() if r not in roles}
    notes = [f"field budget reached: only the first {len(fields)} paths were profiled"] if fields.budget_hit else []
    if decoded:
        notes.append("JSON strings read as JSON: " + ", ".join(sorted(json_path(*k) for k in decoded)[:20]))
    if fields.too_long:
        notes.append(f"JSON strings over {MAX_DECODE_CHARS} characters left as text: " + ", ".join(fields.too_long[:20]))
    return InferredSchema(mapping, assignments, [_profile(f) for f in fields], len(records), left_empty, notes)


def _add_duration(fields: list[FieldValues], stats: dict, srcs: dict, used: set) -> None:
    """With no latency field, a start and an end timestamp give latency as their difference."""
    ts_paths = {a.path for _, a in srcs.get("ts", [])}

    def pick(pattern: str) -> FieldValues | None:
        ok = [f for f in fields if not f.many and stats[f.path]["ts"] >= 0.8 and (f.path not in used or f.path in ts_paths)
              and re.search(pattern, snake(f.keys[-1]))]
        return max(ok, key=lambda f: len(f.rows), default=None)

    start = pick(r"^(start|started|begin)(_(time|at|ts|timestamp))?$")
    end = pick(r"^(end|ended|finished|completed|stop)(_(time|at|ts|timestamp))?$")
    if start and end:
        conf = round(0.8 * min(stats[start.path]["ts"], stats[end.path]["ts"]), 3)
        ev = f"no latency field; start `{start.path}` and end `{end.path}` are timestamps -> duration in ms"
        srcs["latency_ms"] = [(FieldSource(start.path, "duration_ms", 1.0, end.path),
                               RoleAssignment("latency_ms", start.path, conf, ev, "duration_ms", 1.0))]
        used.add(end.path)
