"""Compiles a Mapping into the DuckDB query that turns JSON records into canonical entries (one parse per record)."""
from __future__ import annotations

import json

import re

from .attributes_sql import FastAttributes, Shape, array_names, fast_attributes
from ..entry_schema import CANONICAL_SCHEMA, ROLE_KINDS
from .mapping import (DURATION_TEXT, DURATION_UNITS, ERROR_STATUSES, LEVEL_ERRORS, NULL_TOKENS, OK_STATUSES,
                      REFUSAL_REASONS, FieldSource, Mapping,
                      attributes_patch, extract_sql, path_chain, sql_str, within_sql)

MAX_EPOCH_S = 253402300799  # 9999-12-31T23:59:59Z
# token sets as anchored regexes: an IN list (or list_contains on a constant) is planned as a hash MARK join per use


def _alternation(tokens) -> str:
    return sql_str("(" + "|".join(re.escape(t) for t in tokens) + ")")


_NULLS = _alternation(NULL_TOKENS)
_ERRS = _alternation(ERROR_STATUSES)
_OKS = _alternation(OK_STATUSES)
_REFUSALS = _alternation(REFUSAL_REASONS)


def _is_null_token(v: str) -> str:
    return f"(CASE WHEN strlen({v}) <= 9 THEN regexp_full_match(lower(trim({v})), {_NULLS}) ELSE false END)"


def _maybe_epoch(v: str) -> str:
    """Cheap test that text could be an epoch number: a failed numeric cast is slow, and ISO dates always fail it."""
    return f"(NOT contains({v}, ':') AND NOT contains(substr({v}, 2), '-'))"


def _ts(v: str, unit: str) -> str:
    """Timestamp from slot text `v`: epoch numbers (unit guessed by magnitude for "auto") or ISO-8601 text."""
    d = f"TRY_CAST({v} AS DOUBLE)"
    if unit == "auto":
        div = f"(CASE WHEN abs({d}) >= 1e17 THEN 1e9 WHEN abs({d}) >= 1e14 THEN 1e6 WHEN abs({d}) >= 1e11 THEN 1e3 ELSE 1 END)"
        return (f"(CASE WHEN {v} IS NULL THEN NULL WHEN {_maybe_epoch(v)} THEN {_epoch(d, div)} "
                f"ELSE TRY_CAST({v} AS TIMESTAMPTZ) END)")
    div = {"ts_s": "1", "ts_ms": "1e3", "ts_us": "1e6", "ts_ns": "1e9"}[unit]
    return _epoch(d, div)


def _epoch(d: str, div: str) -> str:
    # to_timestamp raises on NaN/inf/out-of-range epochs, which would fail the whole chunk; NULL makes it a field reject
    return f"(CASE WHEN isfinite({d}) AND abs({d} / {div}) < {MAX_EPOCH_S} THEN to_timestamp({d} / {div}) END)"


def _convert(src: FieldSource, kind: str, v: str, d: str, v_end: str | None,
             role: str | None = None) -> tuple[str, bool]:
    """SQL for one candidate's value from its slot columns, and whether a present raw value can fail to convert."""
    t = src.transform
    if t == "auto":
        t = {"timestamp": "timestamp", "number": "number", "integer": "integer", "names": "names"}.get(kind, "text")
    scale = "" if src.scale == 1.0 else f" * {float(src.scale)!r}"
    if t in ("string", "text"):
        return v, False
    if t == "status":  # tokens first (the common case); the numeric cast only for what is left
        lv = f"lower(trim({v}))"
        return (
            f"(CASE WHEN {v} IS NULL THEN NULL WHEN regexp_full_match({lv}, {_ERRS}) THEN 'error' "
            f"WHEN regexp_full_match({lv}, {_OKS}) THEN 'ok' WHEN {_is_null_token(v)} THEN NULL "
            f"WHEN TRY_CAST({v} AS DOUBLE) IS NOT NULL THEN (CASE WHEN TRY_CAST({v} AS DOUBLE) >= 400 THEN 'error' ELSE 'ok' END) "
            f"ELSE {lv} END)",
            False,
        )
    if t == "duration_text":  # every <number><unit> part to ms, summed; anything else does not convert
        units = " ".join(f"WHEN '{u}' THEN {f!r}" for u, f in DURATION_UNITS.items())
        part = (f"TRY_CAST(regexp_extract(x, '[0-9.]+') AS DOUBLE) * "
                f"(CASE regexp_extract(x, '[a-zµμ]+$') {units} END)")
        return (f"(CASE WHEN regexp_full_match(lower({v}), '{DURATION_TEXT}') THEN list_sum(list_transform("
                f"regexp_extract_all(replace(lower({v}), ' ', ''), '[0-9.]+[a-zµμ]+'), lambda x: {part}))"
                f"{scale} END)", True)
    if t in LEVEL_ERRORS:  # a numeric level on its scale; a value that is no number gives no status
        return f"(CASE WHEN {d} IS NULL THEN NULL WHEN {LEVEL_ERRORS[t].format(d=d)} THEN 'error' ELSE 'ok' END)", False
    if t == "refusal":  # a status where the reason is a refusal, its text as the error; nothing from other reasons
        refused = f"regexp_full_match(lower(trim({v})), {_REFUSALS})"
        return (f"(CASE WHEN {refused} THEN 'error' END)" if role == "status" else
                f"(CASE WHEN {refused} THEN 'blocked: ' || trim({v}) END)"), False
    if t == "refusal_text":  # the refusal's own words stay out of the error: they are model text, not a reason
        said = f"({v} IS NOT NULL AND trim({v}) <> '' AND NOT {_is_null_token(v)})"
        value = "'error'" if role == "status" else "'blocked: refusal'"
        return f"(CASE WHEN {said} THEN {value} END)", False
    if t == "error_if_present":  # an error code's words vary by API (batch_expired...): its presence is the signal
        return f"(CASE WHEN {v} IS NULL OR {_is_null_token(v)} THEN NULL ELSE 'error' END)", False
    if t == "number":
        return f"(CASE WHEN isfinite({d}) THEN {d}{scale} END)", True
    if t == "integer":
        return f"(CASE WHEN isfinite({d}) AND abs({d}{scale}) < 9e18 THEN round({d}{scale})::BIGINT END)", True
    if t in ("timestamp", "ts_s", "ts_ms", "ts_us", "ts_ns"):
        return _ts(v, "auto" if t == "timestamp" else t), True
    if t == "duration_ms":
        a, b = _ts(v, "auto"), _ts(v_end or "NULL", "auto")
        return f"((epoch_us({b}) - epoch_us({a})) / 1000.0{scale})", True
    raise ValueError(f"transform {t} cannot be used for a {kind} role")


def _names(src: FieldSource) -> str:
    if "[*]" in src.path:
        return f"list_filter({extract_sql('raw', src.path)}, lambda x: x IS NOT NULL AND x <> '')"
    v = extract_sql("raw", src.path)
    return (
        f"(CASE WHEN {v} IS NULL THEN NULL WHEN left(trim({v}), 1) = '[' "
        f"THEN list_filter(json_extract_string({v}, '$[*]'), lambda x: x IS NOT NULL AND x <> '') "
        f"ELSE list_filter(list_transform(string_split({v}, ','), lambda x: trim(x)), lambda x: x <> '') END)"
    )


def build_query(mapping: Mapping, relation: str, drop: str | None, no_blank_lines: bool = False,
                shape: Shape | None = None) -> str:
    """Query over `relation` (source, line, sub, raw) yielding canonical columns plus `_sub` and `_error`.

    `no_blank_lines` (records from the clean-JSONL fast path, where every line starts with `{`) drops the blank-line
    filter, which could never remove anything there. `shape` (the records' sampled key order) lets records of that
    shape get `attributes` assembled from their unmapped values instead of merge-patched (attributes_sql.py).

    Layered so each raw value is parsed, cleaned and cast once: extract all paths in one JSON parse (L1), split the
    slots and their numeric casts (L2), convert roles (L3), then derive columns and field errors (final select).
    """
    slots: list[str] = []
    numeric: set[int] = set()

    def slot(path: str, needs_number: bool) -> int:
        if path not in slots:
            slots.append(path)
        i = slots.index(path) + 1
        if needs_number:
            numeric.add(i)
        return i

    role_sql: dict[str, str] = {}
    # (role, slot, candidate column, path, end slot or None) for field-error reporting
    candidates: list[tuple[str, int, str, str, int | None]] = []
    cand_cols: list[str] = []
    for role, kind in ROLE_KINDS.items():
        srcs = mapping.roles.get(role, [])
        const = mapping.constants.get(role)
        if kind == "names":
            role_sql[role] = _first_listed([_names(s) for s in srcs])
            continue
        exprs = []
        for k, src in enumerate(srcs):
            if role == "status" and src.transform == "auto":
                src = FieldSource(src.path, "status", src.scale, src.end_path)
            wants_number = src.transform in ("number", "integer", *LEVEL_ERRORS) or (
                src.transform == "auto" and kind in ("number", "integer"))
            i = slot(src.path, wants_number)
            j = slot(src.end_path, False) if src.end_path else None
            conv, can_fail = _convert(src, kind, f"s{i}", f"d{i}", f"s{j}" if j else None, role)
            if can_fail:
                col = f"_c_{role}_{k}"
                cand_cols.append(f"{conv} AS {col}")
                candidates.append((role, i, col, src.path, j))
                exprs.append(col)
            else:
                exprs.append(conv)
        if const is not None:
            exprs.append(sql_str(const))
        role_sql[role] = exprs[0] if len(exprs) == 1 else (f"coalesce({', '.join(exprs)})" if exprs else "NULL")

    vlist = "[" + ", ".join(sql_str(path_chain(p)[0]) for p in slots) + "]"  # paths into JSON strings: read on in L2
    blank = "(strlen(raw) < 16 AND trim(raw, ' \t\r\n') = '')"
    where = "" if no_blank_lines else f" WHERE NOT {blank}"
    if slots:  # try(): a malformed record yields NULL instead of failing the query, so one parse also validates
        l0 = f"SELECT source, line, sub, raw, try(json_extract_string(raw, {vlist})) AS v FROM {relation}{where}"
        malformed = "v IS NULL"
    else:
        l0 = f"SELECT source, line, sub, raw, NULL::VARCHAR[] AS v FROM {relation}{where}"
        malformed = "NOT json_valid(raw)"
    # starts_with first: ltrim would copy every (long) record just to look at its first character
    l1 = (f"SELECT *, CASE WHEN {malformed} THEN 'malformed JSON' WHEN starts_with(raw, '{{') THEN NULL "
          f"WHEN left(ltrim(raw), 1) <> '{{' THEN 'record is JSON but not an object' END AS _bad FROM ({l0})")
    l2_cols = [f"{within_sql(f'v[{i}]', slots[i - 1])} AS s{i}" for i in range(1, len(slots) + 1)]
    l2_cols += [f"TRY_CAST({within_sql(f'v[{i}]', slots[i - 1])} AS DOUBLE) AS d{i}" for i in sorted(numeric)]
    l2 = f"SELECT source, line, sub, raw, _bad{''.join(', ' + c for c in l2_cols)} FROM ({l1})"
    l3 = f"SELECT *{''.join(', ' + c for c in cand_cols)} FROM ({l2})"
    keep = sorted({f"s{k}" for _, i, _, _, j in candidates for k in (i, j) if k} | {c[2] for c in candidates})
    l4_cols = [f"{e} AS {r}" for r, e in role_sql.items() if r != "provider"] + keep
    l4_cols.append(f"{role_sql['provider']} AS provider_raw")
    l4 = f"SELECT source, line, sub, raw, _bad, {', '.join(l4_cols)} FROM ({l3})"

    def present(k: int) -> str:
        return f"s{k} IS NOT NULL AND NOT {_is_null_token(f's{k}')}"

    # a duration reads nothing, and fails nothing, while its end is missing (a call still running, or one that failed)
    errors = [
        f"CASE WHEN {present(i)}{f' AND {present(j)}' if j else ''} AND {col} IS NULL THEN "
        f"'field {role} ({path.replace(chr(39), chr(39) * 2)}): cannot read ' || left(s{i}, 80) || ' as {ROLE_KINDS[role]}' END"
        for role, i, col, path, j in candidates
    ]
    err_sql = f"coalesce(_bad, NULLIF(concat_ws('; ', {', '.join(errors)}), ''))" if errors else "_bad"
    patch = attributes_patch(mapping)
    fast = None if patch == "{}" else fast_attributes(shape, json.loads(patch), f"json_merge_patch(raw, {sql_str(patch)})",
                                                      [s.path for srcs in mapping.roles.values() for s in srcs])
    derived = {
        "entry_id": "md5(source || '#' || line::VARCHAR || '#' || sub::VARCHAR)",
        "drop": sql_str(drop) if drop is not None else "NULL::VARCHAR",
        "output_kind": "(CASE WHEN output IS NULL THEN 'null' WHEN left(output, 1) IN ('{', '[') THEN "
                       "(CASE WHEN json_valid(output) THEN 'json' ELSE 'text' END) "
                       "WHEN left(output, 1) NOT IN (' ', '\t', '\n', '\r') THEN 'text' "
                       "WHEN left(ltrim(output), 1) IN ('{', '[') AND json_valid(output) THEN 'json' ELSE 'text' END)",
        "attributes": _attributes_sql(patch),
        # providers implied by the model name when nothing in the record says so
        "provider": "coalesce(provider_raw, CASE WHEN model ILIKE 'gpt-%' OR model ILIKE 'o1%' OR model ILIKE 'o3%' "
                    "OR model ILIKE 'o4%' OR model ILIKE 'text-embedding%' THEN 'openai' WHEN model ILIKE 'claude%' "
                    "THEN 'anthropic' WHEN model ILIKE 'gemini%' THEN 'google' WHEN model ILIKE 'mistral%' OR "
                    "model ILIKE 'mixtral%' THEN 'mistral' WHEN model ILIKE 'command%' THEN 'cohere' END)",
    }
    derived.update(_names_from(fast, mapping))
    select_cols = [f"{derived.get(f.name, f.name)} AS \"{f.name}\"" for f in CANONICAL_SCHEMA]
    if fast:  # the key lists and unmapped values, one layer up (the role columns below never see them)
        l4 = f"SELECT *, {', '.join(fast.columns)} FROM ({l4})"
    l5 = f"SELECT *, {fast.expression if fast else _patched(patch)} AS _a FROM ({l4})"
    return f"SELECT {', '.join(select_cols)}, sub AS _sub, {err_sql} AS _error FROM ({l5})"


def _first_listed(exprs: list[str]) -> str:
    """A names role over its candidates: the first giving a non-empty list, else the first's (empty or NULL) list."""
    if not exprs:
        return "NULL::VARCHAR[]"
    if len(exprs) == 1:
        return exprs[0]
    return "(CASE " + " ".join(f"WHEN len({e}) > 0 THEN {e}" for e in exprs) + f" ELSE {exprs[0]} END)"


def _names_from(fast: FastAttributes | None, mapping: Mapping) -> dict[str, str]:
    """Names roles whose arrays the attributes extraction holds as text: read from that text, not by another parse
    of the record (their columns from the role layers are then unused, and DuckDB drops them)."""
    out = {}
    for role, kind in ROLE_KINDS.items():
        srcs = mapping.roles.get(role, [])
        if fast and kind == "names" and any(array_names(s.path, fast) for s in srcs):
            out[role] = _first_listed([array_names(s.path, fast) or _names(s) for s in srcs])
    return out


def _patched(patch: str) -> str:
    """The record minus each role's primary path (computed once, in its own layer)."""
    if patch == "{}":
        return "CASE WHEN _bad IS NULL THEN raw END"
    return f"CASE WHEN _bad IS NULL THEN json_merge_patch(raw, {sql_str(patch)}) END"


EMPTY_OBJ = r":\{\}"


def _attributes_sql(patch: str) -> str:
    """Unmapped fields. A merge patch leaves `"parent":{}` where a parent held only mapped keys (or was missing); those
    are removed per nesting level, deepest first, by one alternation of the known parent keys (two scans per level).
    Matching on quoted keys is safe: inside JSON strings quotes are escaped."""
    levels = _parent_levels(json.loads(patch))
    if not levels:
        return "_a"
    out = "_a"
    for keys in levels:
        alt = "(?:" + "|".join(re.escape(json.dumps(k, ensure_ascii=False)) for k in keys) + ")"
        after_comma, before_comma = sql_str("," + alt + EMPTY_OBJ), sql_str(alt + EMPTY_OBJ + ",?")
        out = f"regexp_replace(regexp_replace({out}, {after_comma}, '', 'g'), {before_comma}, '', 'g')"
    return f"CASE WHEN contains(_a, ':{{}}') THEN {out} ELSE _a END"


def _parent_levels(patch: dict) -> list[list[str]]:
    """Keys of the patch's nested objects grouped by depth, deepest first."""
    levels: dict[int, set[str]] = {}

    def walk(node: dict, depth: int) -> None:
        for k, v in node.items():
            if isinstance(v, dict):
                levels.setdefault(depth, set()).add(k)
                walk(v, depth + 1)

    walk(patch, 0)
    return [sorted(levels[d]) for d in sorted(levels, reverse=True)]


