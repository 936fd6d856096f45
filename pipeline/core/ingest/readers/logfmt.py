"""Reads logfmt (key=value, key="quoted \\"value\\"", bare key = true) into typed JSON records, vectorized in DuckDB."""
from __future__ import annotations

import json
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..mapping import sql_str
from ..records import ParsedRecords, Reject
from .arrow_json import records_table
from .text_lines import reject_raw, split_lines

# One grammar, used by DuckDB (RE2) and Python (re) alike; whitespace is spelled out because RE2's \s is ASCII-only
# while Python's is Unicode (a no-break space inside an unquoted value must not split it in one engine only).
_WS = r"\t\n\f\r "
KEY = rf'[^{_WS}="]+'
QUOTED = r'"(?:[^"\\]|\\.)*"'
PAIR = rf'({KEY})(=(?:{QUOTED}|[^{_WS}"]*))?'  # group 2: '' = bare key, '=' = empty value, '="..."' or '=v'
LINE = rf'[{_WS}]*(?:{KEY}(?:=(?:{QUOTED}|[^{_WS}"]*))?(?:[{_WS}]+|$))*'
# Stricter variant for sniffing: unquoted values without '=' so "a=1,b=2" CSV cells do not look like logfmt.
SNIFF_LINE = re.compile(rf'[{_WS}]*(?:{KEY}(?:=(?:{QUOTED}|[^{_WS}="]*))?(?:[{_WS}]+|$))*')
INT = r"-?(?:0|[1-9][0-9]{0,17})"  # longer integers stay strings: IDs must not lose digits as doubles
FLOAT = r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+(?:[eE][+-]?[0-9]+)?|[eE][+-]?[0-9]+)"

_PAIR_RE = re.compile(PAIR)
_NUMBER_RE = re.compile(rf"{INT}|{FLOAT}")
_GO_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)", re.S)
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}


def is_logfmt_line(line: str) -> tuple[bool, int, int]:
    """(the whole line is logfmt tokens, key=value pairs, bare keys) under the strict sniffing grammar."""
    if not SNIFF_LINE.fullmatch(line):
        return False, 0, 0
    pairs = bare = 0
    for m in _PAIR_RE.finditer(line):
        if m.group(2):
            pairs += 1
        else:
            bare += 1
    return True, pairs, bare


def _unquote(token: str) -> str:
    """A quoted logfmt value: JSON-compatible escapes first, Go's (\\x, \\U, \\a, \\v) as a fallback."""
    try:
        return json.loads(token)
    except ValueError:
        pass

    def one(m: re.Match) -> str:
        e = m.group(1)
        if e[0] in "xuU" and len(e) > 1:
            return chr(int(e[1:], 16))
        return _SIMPLE_ESCAPES.get(e, e)

    return _GO_ESCAPE.sub(one, token[1:-1])


def _value_json(value: str) -> str:
    """JSON text for the part after the key: '' (bare key), '=' (empty), '="quoted"' or '=unquoted'."""
    if value == "":
        return "true"
    if value == "=":
        return "null"
    if value.startswith('="'):
        return json.dumps(_unquote(value[1:]), ensure_ascii=False)
    v = value[1:]
    if _NUMBER_RE.fullmatch(v) or v in ("true", "false"):
        return v
    return json.dumps(v, ensure_ascii=False)


def parse_line(line: str) -> dict | None:
    """A logfmt line as a dict (the last duplicate key wins), or None when it is not logfmt."""
    if not re.fullmatch(LINE, line):
        return None
    return {m.group(1): json.loads(_value_json(m.group(2) or "")) for m in _PAIR_RE.finditer(line)}


_TOKEN = rf'{KEY}(?:={QUOTED}|=[^{_WS}"]*)?'
_NUMBER = rf"(?:{INT}|{FLOAT})"

# Lines are validated and split into tokens in one pass; tokens are then typed flat (fast scalar SQL, no list
# lambdas) and joined back per line by pyarrow.
_SPLIT = f"""
SELECT ok, CASE WHEN ok THEN regexp_extract_all(text, {sql_str(_TOKEN)}, 0) ELSE []::VARCHAR[] END AS toks
FROM (SELECT text, regexp_full_match(text, {sql_str(LINE)}) AS ok
      FROM (SELECT rtrim(text, chr(13) || chr(10)) AS text FROM _strata_lines))"""

_TYPE = f"""
SELECT to_json(k)::VARCHAR || ':' || CASE WHEN eq = 0 THEN 'true' WHEN v = '' THEN 'null' WHEN left(v, 1) = '"' THEN v
    WHEN v IN ('true', 'false') OR regexp_full_match(v, {sql_str(_NUMBER)}) THEN v
    ELSE to_json(v)::VARCHAR END AS piece,
  eq > 0 AS is_pair, hash(k) AS key_hash,
  left(v, 1) = '"' AND NOT json_valid(v) AS odd_quote  -- Go escapes or raw control characters: decoded in Python
FROM (SELECT eq, CASE WHEN eq = 0 THEN tok ELSE left(tok, eq - 1) END AS k,
        CASE WHEN eq = 0 THEN '' ELSE substr(tok, eq + 1) END AS v
      FROM (SELECT tok, strpos(tok, '=') AS eq FROM _strata_tokens))"""

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _lines_with_duplicate_keys(parent: np.ndarray, key_hash: np.ndarray) -> np.ndarray:
    """Lines where a key hash repeats: a superset of lines with duplicate keys, which are then re-read exactly."""
    if not len(parent):
        return np.empty(0, np.int64)
    combined = key_hash ^ (parent.astype(np.uint64) * _GOLDEN)
    ordered = np.sort(combined)
    repeated = ordered[1:][ordered[1:] == ordered[:-1]]
    if not len(repeated):
        return np.empty(0, np.int64)
    return np.unique(parent[np.isin(combined, repeated)])


def _per_line(parent: np.ndarray, flags: pa.ChunkedArray, n_lines: int) -> np.ndarray:
    """How many of each line's tokens have the flag."""
    return np.bincount(parent, weights=flags.to_numpy().astype(np.float64), minlength=n_lines)


def _sql(con, query: str, **tables: pa.Table) -> pa.Table:
    for name, t in tables.items():
        con.register(name, t)
    try:
        return con.sql(query).to_arrow_table()
    finally:
        for name in tables:
            con.unregister(name)


def read_logfmt(data: bytes, source: str) -> ParsedRecords:
    """One record per non-blank line; lines that are not logfmt or hold no key=value pair become rejects."""
    from ..normalize import connect

    lines, numbers, rejects = split_lines(data, source)
    if not len(lines):
        empty = records_table(source, numbers, pa.array([], pa.large_string()))
        return ParsedRecords(empty, rejects, "logfmt", len(data))
    con = connect()
    split = _sql(con, _SPLIT, _strata_lines=pa.table({"text": lines}))
    ok = split.column("ok").to_numpy()
    toks = split.column("toks").combine_chunks()
    offsets = pc.subtract(toks.offsets, toks.offsets[0])
    flat = toks.flatten()
    parent = pc.list_parent_indices(toks).to_numpy()
    typed = _sql(con, _TYPE, _strata_tokens=pa.table({"tok": flat}))
    pairs = _per_line(parent, typed.column("is_pair"), len(ok))
    odd = _per_line(parent, typed.column("odd_quote"), len(ok)) > 0
    odd[_lines_with_duplicate_keys(parent, typed.column("key_hash").to_numpy())] = True
    fast = ok & (pairs > 0) & ~odd
    raw = pc.binary_join(pa.ListArray.from_arrays(offsets, typed.column("piece").combine_chunks()), ",")
    raw = pc.binary_join_element_wise("{", raw.filter(pa.array(fast)), "}", "")
    slow_lines, slow_raw = [], []
    for i in np.flatnonzero(~fast).tolist():
        line, text = int(numbers[i]), lines[i].as_py().rstrip("\r\n")
        if not text.strip():
            continue  # blank lines are skipped, not rejected
        if not ok[i]:
            reason = "not logfmt: unbalanced quote or text outside key=value pairs"
            rejects.append(Reject(source, line, reason, reject_raw(text)))
        elif pairs[i] == 0:
            rejects.append(Reject(source, line, "not logfmt: no key=value pairs", reject_raw(text)))
        else:  # a quoted value with Go escapes, or a duplicate key (the last one wins)
            slow_lines.append(line)
            slow_raw.append(json.dumps(parse_line(text), ensure_ascii=False, separators=(",", ":")))
    line_col, raw_col = numbers[fast], raw.cast(pa.large_string())
    if slow_lines:
        line_col = np.concatenate([line_col, np.array(slow_lines, np.int64)])
        raw_col = pa.concat_arrays([raw_col, pa.array(slow_raw, pa.large_string())])
    table = records_table(source, line_col, raw_col)
    if slow_lines:
        table = table.sort_by("line")
    rejects.sort(key=lambda r: r.line)
    return ParsedRecords(table, rejects, "logfmt", len(data))
