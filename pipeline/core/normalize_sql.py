"""Compiles a Mapping into the DuckDB query that turns JSON records into canonical entries (one parse per record)."""
from __future__ import annotations

from .entry_schema import CANONICAL_SCHEMA, ROLE_KINDS
from .mapping import ERROR_STATUSES, NULL_TOKENS, OK_STATUSES, FieldSource, Mapping, attributes_patch, sql_str

_NULLS = ", ".join(sql_str(t) for t in NULL_TOKENS)
_ERRS = ", ".join(sql_str(t) for t in ERROR_STATUSES)
_OKS = ", ".join(sql_str(t) for t in OK_STATUSES)


def _clean(v: str) -> str:
    return f"(CASE WHEN lower(trim({v})) IN ({_NULLS}) THEN NULL ELSE trim({v}) END)"


def _ts(v: str, unit: str) -> str:
    d = f"TRY_CAST({v} AS DOUBLE)"
    if unit == "auto":
        div = f"(CASE WHEN abs({d}) >= 1e17 THEN 1e9 WHEN abs({d}) >= 1e14 THEN 1e6 WHEN abs({d}) >= 1e11 THEN 1e3 ELSE 1 END)"
        return f"(CASE WHEN {d} IS NOT NULL THEN to_timestamp({d} / {div}) ELSE TRY_CAST({v} AS TIMESTAMPTZ) END)"
    div = {"ts_s": "1", "ts_ms": "1e3", "ts_us": "1e6", "ts_ns": "1e9"}[unit]
    return f"to_timestamp({d} / {div})"


def _convert(src: FieldSource, kind: str, v: str, v_end: str | None) -> tuple[str, bool]:
    """SQL for one candidate's value and whether a non-null raw value can fail to convert (a field error)."""
    t = src.transform
    if t == "auto":
        t = {"timestamp": "timestamp", "number": "number", "integer": "integer", "names": "names"}.get(kind, "text")
    scale = "" if src.scale == 1.0 else f" * {float(src.scale)!r}"
    c = _clean(v)
    if t in ("string", "text"):
        return v, False
    if t == "status":
        return (
            f"(CASE WHEN {c} IS NULL THEN NULL WHEN TRY_CAST({c} AS DOUBLE) IS NOT NULL "
            f"THEN (CASE WHEN TRY_CAST({c} AS DOUBLE) >= 400 THEN 'error' ELSE 'ok' END) "
            f"WHEN lower({c}) IN ({_ERRS}) THEN 'error' WHEN lower({c}) IN ({_OKS}) THEN 'ok' ELSE lower({c}) END)",
            False,
        )
    if t == "number":
        return f"(TRY_CAST({c} AS DOUBLE){scale})", True
    if t == "integer":
        return f"TRY_CAST(round(TRY_CAST({c} AS DOUBLE){scale}) AS BIGINT)", True
    if t in ("timestamp", "ts_s", "ts_ms", "ts_us", "ts_ns"):
        return _ts(c, "auto" if t == "timestamp" else t), True
    if t == "duration_ms":
        a, b = _ts(c, "auto"), _ts(_clean(v_end or "NULL"), "auto")
        return f"((epoch_us({b}) - epoch_us({a})) / 1000.0{scale})", True
    raise ValueError(f"transform {t} cannot be used for a {kind} role")


def _names(src: FieldSource) -> str:
    if "[*]" in src.path:
        return f"list_filter(json_extract_string(raw, {sql_str(src.path)}), lambda x: x IS NOT NULL AND x <> '')"
    v = f"json_extract_string(raw, {sql_str(src.path)})"
    return (
        f"(CASE WHEN {v} IS NULL THEN NULL WHEN left(trim({v}), 1) = '[' "
        f"THEN list_filter(json_extract_string({v}, '$[*]'), lambda x: x IS NOT NULL AND x <> '') "
        f"ELSE list_filter(list_transform(string_split({v}, ','), lambda x: trim(x)), lambda x: x <> '') END)"
    )


def build_query(mapping: Mapping, relation: str, drop: str | None) -> str:
    """Query over `relation` (source, line, sub, raw) yielding canonical columns plus `_valid`, `_error`, `_raw`."""
    scalar_paths: list[str] = []

    def slot(path: str) -> str:
        if path not in scalar_paths:
            scalar_paths.append(path)
        return f"v[{scalar_paths.index(path) + 1}]"

    cols: dict[str, str] = {}
    errors: list[str] = []
    for role, kind in ROLE_KINDS.items():
        srcs = mapping.roles.get(role, [])
        const = mapping.constants.get(role)
        if kind == "names":
            exprs = [_names(s) for s in srcs]
            if not exprs:
                cols[role] = "NULL::VARCHAR[]"
            elif len(exprs) == 1:
                cols[role] = exprs[0]
            else:
                cols[role] = "(CASE " + " ".join(f"WHEN len({e}) > 0 THEN {e}" for e in exprs) + f" ELSE {exprs[0]} END)"
            continue
        exprs = []
        for s in srcs:
            if role == "status" and s.transform == "auto":
                s = FieldSource(s.path, "status", s.scale, s.end_path)
            v = slot(s.path)
            v_end = slot(s.end_path) if s.end_path else None
            conv, can_fail = _convert(s, kind, v, v_end)
            exprs.append(conv)
            if can_fail:
                raw_v = _clean(v) if not v_end else f"coalesce({_clean(v)}, {_clean(v_end)})"
                errors.append(
                    f"CASE WHEN {raw_v} IS NOT NULL AND {conv} IS NULL THEN "
                    f"'field {role} ({s.path.replace(chr(39), chr(39) * 2)}): cannot read ' || left({raw_v}, 80) || ' as {kind}' END"
                )
        if const is not None:
            exprs.append(sql_str(const))
        cols[role] = exprs[0] if len(exprs) == 1 else (f"coalesce({', '.join(exprs)})" if exprs else "NULL")

    out = {}
    out["output_kind"] = (
        "(CASE WHEN output IS NULL THEN 'null' WHEN left(ltrim(output), 1) IN ('{', '[') AND json_valid(output) "
        "THEN 'json' ELSE 'text' END)"
    )
    patch = attributes_patch(mapping)
    attrs = f"json_merge_patch(raw, {sql_str(patch)})" if patch != "{}" else "raw"
    # providers implied by the model name when nothing in the record says so
    provider = (
        "coalesce(provider, CASE WHEN model ILIKE 'gpt-%' OR model ILIKE 'o1%' OR model ILIKE 'o3%' OR model ILIKE 'o4%' "
        "OR model ILIKE 'text-embedding%' THEN 'openai' WHEN model ILIKE 'claude%' THEN 'anthropic' "
        "WHEN model ILIKE 'gemini%' THEN 'google' WHEN model ILIKE 'mistral%' OR model ILIKE 'mixtral%' THEN 'mistral' "
        "WHEN model ILIKE 'command%' THEN 'cohere' END)"
    )
    vlist = "[" + ", ".join(sql_str(p) for p in scalar_paths) + "]" if scalar_paths else None
    extract = f"json_extract_string(raw, {vlist})" if vlist else "NULL::VARCHAR[]"
    err_sql = f"NULLIF(concat_ws('; ', {', '.join(errors)}), '')" if errors else "NULL::VARCHAR"
    role_sql = ",\n  ".join(f"{e} AS {r}" for r, e in cols.items())
    drop_sql = sql_str(drop) if drop is not None else "NULL::VARCHAR"
    inner = f"""
SELECT source, line, sub, raw, _valid, {role_sql},
  {err_sql} AS _error
FROM (
  SELECT source, line, sub, raw, TRUE AS _valid, {extract} AS v
  FROM {relation} WHERE json_valid(raw) AND left(ltrim(raw), 1) = '{{'
)"""
    select_cols = []
    for f in CANONICAL_SCHEMA:
        name = f.name
        if name == "entry_id":
            expr = "md5(source || '#' || line::VARCHAR || '#' || sub::VARCHAR)"
        elif name == "drop":
            expr = drop_sql
        elif name == "provider":
            expr = provider
        elif name == "attributes":
            expr = attrs
        elif name in out:
            expr = out[name]
        else:
            expr = name
        select_cols.append(f"{expr} AS \"{name}\"")
    return f"SELECT {', '.join(select_cols)}, _error, raw AS _raw FROM ({inner})"


def invalid_query(relation: str) -> str:
    """Records that are not a JSON object (blank lines are skipped, not rejected)."""
    return (
        f"SELECT source, line, sub, raw, CASE WHEN json_valid(raw) THEN 'record is JSON but not an object' "
        f"ELSE 'malformed JSON' END AS reason FROM {relation} "
        f"WHERE trim(raw, ' \t\r\n') <> '' AND NOT (json_valid(raw) AND left(ltrim(raw), 1) = '{{')"
    )
