"""Row-level check kinds as SQL: for each spec, which rows it applies to and on which of them it holds."""
from __future__ import annotations

from .text_scan import pattern_regex, qident, sql_str

WS = sql_str(" \t\n\r")
BLANK = sql_str(r"[ \t\n\r]*")

# Types that string columns can retain, as full-string regexes (RE2 and Python agree on these).
TYPE_PATTERNS: dict[str, str] = {
    "integer": r"^[+-]?[0-9]+$",
    "number": r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$",
    "boolean": r"^(?:[Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])$",
    "uuid": r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
    "hex": r"^[0-9a-fA-F]{8,}$",
    "timestamp": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:Z|[+-][0-9]{2}:?[0-9]{2})?)?$",
    "semver": r"^v?[0-9]+\.[0-9]+(?:\.[0-9]+)?(?:[-+][0-9A-Za-z.-]+)?$",
}

# Kinds whose confidence is the plain share of applicable rows on which the row predicate holds.
ROW_KINDS = (
    "not_empty", "length_between", "json_valid", "json_type", "json_keys", "in_set", "type_is",
    "min_value", "regex_absent", "regex_present", "prefix_in", "length_ratio_min",
)
# Kinds counted in the same pass whose confidence compares a share with a bound.
SHARE_KINDS = ("completeness", "share_between")


def sql_list(values) -> str:
    return "[" + ", ".join(sql_literal(v) for v in values) + "]::VARCHAR[]" if values else "[]::VARCHAR[]"


def sql_literal(v) -> str:
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, (int, float)):
        return repr(float(v)) if isinstance(v, float) else str(v)
    return sql_str(str(v))


JSON_KINDS = ("json_valid", "json_type", "json_keys")
FIRST_CHAR = sql_str(r"^[ \t\n\r]*(.)")
# DuckDB's json_valid also takes NaN / Infinity tokens (`nan`, `[-inf]`), which JSON (RFC 8259) has not: outside string
# literals a document's letters can only spell true, false, null or an exponent, never "nan" or "inf"
STRING_LITERAL = sql_str(r'"(\\.|[^"\\])*"')
NON_FINITE = sql_str(r"(?i)nan|inf")
JSON_TYPES = ("OBJECT", "ARRAY", "STRING", "NUMBER", "BOOLEAN", "NULL")


def json_type_col(field: str) -> str:
    return f"__json_type__{field}"


def json_keys_col(field: str) -> str:
    return f"__json_keys__{field}"


def json_type_sql(c: str) -> str:
    """JSON type of a valid document from its first non-blank character; NULL when the text is not JSON."""
    first = f"regexp_extract({c}, {FIRST_CHAR}, 1)"
    strict = f"json_valid({c}) AND NOT regexp_matches(regexp_replace({c}, {STRING_LITERAL}, '', 'g'), {NON_FINITE})"
    return (f"CASE WHEN {strict} THEN (CASE {first} WHEN '{{' THEN 'OBJECT' WHEN '[' THEN 'ARRAY' "
            "WHEN '\"' THEN 'STRING' WHEN 't' THEN 'BOOLEAN' WHEN 'f' THEN 'BOOLEAN' WHEN 'n' THEN 'NULL' "
            "ELSE 'NUMBER' END) END")


def predicates(check: dict, is_list: bool) -> tuple[str, str]:
    """(applies, holds) SQL boolean expressions over the entries relation for a row- or share-kind check."""
    kind = check["kind"]
    c = qident(check["field"])
    not_null = f"{c} IS NOT NULL"
    if kind == "not_empty":
        return not_null, (f"len({c}) > 0" if is_list else f"NOT regexp_full_match({c}, {BLANK})")
    if kind == "length_between":
        length = f"len({c})" if is_list else f"length({c})"
        return not_null, f"{length} BETWEEN {float(check['min'])} AND {float(check['max'])}"
    # JSON kinds read the evaluator's derived columns (one parse per document for all JSON checks).
    if kind == "json_valid":
        return not_null, f"{qident(json_type_col(check['field']))} IS NOT NULL"
    if kind == "json_type":
        t = qident(json_type_col(check["field"]))
        return f"{t} IS NOT NULL", f"{t} = {sql_str(check['type'])}"
    if kind == "json_keys":
        keys = qident(json_keys_col(check["field"]))
        holds = []
        for key in check.get("required") or []:  # a chain of list_contains is ~4x faster than list_has_all
            holds.append(f"list_contains({keys}, {sql_literal(key)})")
        if check.get("allowed") is not None:
            holds.append(f"len(list_filter({keys}, lambda k: NOT list_contains({sql_list(check['allowed'])}, k))) = 0")
        return f"{keys} IS NOT NULL", " AND ".join(holds) or "TRUE"
    if kind == "in_set":
        values = sql_list(check["values"])
        if is_list:
            return not_null, f"len(list_filter({c}, lambda x: x IS NULL OR NOT list_contains({values}, x))) = 0"
        return not_null, f"list_contains({values}, {c}::VARCHAR)"
    if kind == "type_is":
        return not_null, f"regexp_full_match({c}::VARCHAR, {sql_str(TYPE_PATTERNS[check['type']])})"
    if kind == "min_value":
        return f"{c} IS NOT NULL AND NOT isnan({c}::DOUBLE)", f"{c} >= {float(check['min'])}"
    if kind in ("regex_absent", "regex_present"):
        match = f"regexp_matches({c}, {sql_str(pattern_regex(check))})"
        return not_null, (f"NOT {match}" if kind == "regex_absent" else match)
    if kind == "prefix_in":
        opened = f"ltrim({c}, {WS})"
        return not_null, "(" + " OR ".join(f"starts_with({opened}, {sql_str(v)})" for v in check["values"]) + ")" if check["values"] else "FALSE"
    if kind == "length_ratio_min":
        other = qident(check["other"])
        return (f"{c} IS NOT NULL AND {other} IS NOT NULL AND length({other}) > 0",
                f"length({c}) >= {float(check['min'])} * length({other})")
    if kind == "completeness":
        return "TRUE", not_null
    if kind == "share_between":
        return share_predicate(check, c, is_list)
    raise KeyError(kind)


def share_predicate(check: dict, c: str, is_list: bool) -> tuple[str, str]:
    """Rows the share is over, and the event counted: a value, one of several values, a pattern, or presence."""
    if "value" in check:
        v = check["value"]
        rows = f"{c} IS NOT NULL" + (f" AND len({c}) > 0" if is_list and check.get("nonempty") else "")
        return rows, (f"list_contains({c}, {sql_literal(v)})" if is_list else f"{c} = {sql_literal(v)}")
    if "values" in check:
        return f"{c} IS NOT NULL", f"list_contains({sql_list(check['values'])}, {c}::VARCHAR)"
    if check.get("pattern") or check.get("regex"):
        return f"{c} IS NOT NULL", f"regexp_matches({c}, {sql_str(pattern_regex(check))})"
    return "TRUE", (f"{c} IS NOT NULL AND len({c}) > 0" if is_list else f"{c} IS NOT NULL")


def fields_of(check: dict) -> list[str]:
    """Every column a check reads (for missing-field detection)."""
    names = [check.get(k) for k in ("field", "other", "x", "y", "group")]
    names.append((check.get("where") or {}).get("field"))
    return [n for n in names if n]


def where_sql(check: dict) -> str | None:
    """The SQL filter of a check's population (`where: {field, value}`: one segment, e.g. one operation)."""
    where = check.get("where")
    if not where:
        return None
    return f"({qident(where['field'])}::VARCHAR = {sql_str(str(where['value']))})"
