"""Vectorized text scans in DuckDB: named regex habits, and PII detection (regex candidates, then validators)."""
from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .pii_rules import PII_KINDS, PII_PATTERNS, VALIDATORS, resolve_overlaps

# Named habits; checks may also carry a raw `regex`.
HABIT_PATTERNS: dict[str, str] = {
    "markdown": r"(?m:^ {0,3}#{1,6} )|\*\*[^*\n]+\*\*|(?m:^ *[-*+] +\S)|\[[^\]\n]+\]\([^)\s]+\)",
    "code_block": r"```",
    "url": r"https?://[^\s\"'<>]+",
    "refusal": r"(?i)(?:\bI'?m sorry\b|\bI am sorry\b|\bI apologi[sz]e\b|\bI can(?:no|')t (?:help|assist|do|provide)\b"
    r"|\bI(?:'m| am) unable to\b|\bas an AI\b)",
}


def sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def qident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def pattern_regex(check: dict) -> str:
    """The regex a check names: a PII kind, a habit, or a raw `regex`."""
    if check.get("regex"):
        return check["regex"]
    name = check["pattern"]
    if name in PII_PATTERNS:
        return PII_PATTERNS[name]
    if name in HABIT_PATTERNS:
        return HABIT_PATTERNS[name]
    raise ValueError(f"unknown pattern {name!r}: use one of {sorted(PII_PATTERNS) + sorted(HABIT_PATTERNS)} or 'regex'")


def is_pii(check: dict) -> bool:
    return not check.get("regex") and check.get("pattern") in PII_PATTERNS


def detect_pii(
    con: duckdb.DuckDBPyConnection, relation: str, column: str, kinds=PII_KINDS, row_column: str = "_row"
) -> dict[str, np.ndarray]:
    """Row numbers (values of `row_column`) holding at least one validated match, per PII kind.

    One regex pass picks candidate rows, `regexp_extract_all` pulls candidate strings from those rows only, and
    the Python validators (Luhn, mod-97, NANP, SSA rules) run on the candidate strings alone."""
    kinds = tuple(kinds)
    if not kinds:
        return {}
    col = qident(column)
    prefilter = "|".join(f"(?:{PII_PATTERNS[k]})" for k in kinds)
    extracts = ", ".join(f"regexp_extract_all({col}, {sql_str(PII_PATTERNS[k])}) AS {qident(k)}" for k in kinds)
    table = con.sql(
        f"SELECT {qident(row_column)} AS _r, {extracts} FROM {relation} "
        f"WHERE {col} IS NOT NULL AND regexp_matches({col}, {sql_str(prefilter)})"
    ).to_arrow_table()
    rows = table.column("_r").to_numpy()
    found: dict[int, list[tuple[str, str]]] = {}
    for kind in kinds:
        lists = table.column(kind).combine_chunks()
        flat = pc.list_flatten(lists).to_pylist()
        if not flat:
            continue
        parents = pc.list_parent_indices(lists).to_numpy()
        validate = VALIDATORS[kind]
        for i, cand in zip(parents, flat):  # candidate strings only, not rows
            if validate(cand):
                found.setdefault(int(i), []).append((kind, cand))
    hits: dict[str, list[int]] = {k: [] for k in kinds}
    for i, pairs in found.items():
        for kind in {k for k, _ in resolve_overlaps(pairs)}:
            hits[kind].append(int(rows[i]))
    return {k: np.array(sorted(v), dtype=np.int64) for k, v in hits.items()}


def detect_pii_in_strings(texts: list[str | None], kinds=PII_KINDS) -> list[set[str]]:
    """Convenience over a plain list: the set of PII kinds found in each string."""
    from ..ingest.normalize import connect

    con = connect()
    tbl = pa.table({"_row": pa.array(np.arange(len(texts), dtype=np.int64)), "text": pa.array(texts, pa.string())})
    con.register("_texts", tbl)
    hits = detect_pii(con, "_texts", "text", kinds)
    out: list[set[str]] = [set() for _ in texts]
    for kind, rows in hits.items():
        for r in rows:
            out[int(r)].add(kind)
    return out
