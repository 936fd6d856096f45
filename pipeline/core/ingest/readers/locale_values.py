"""Locale-formatted text columns of delimited files, typed when unambiguous: `dd.mm.yyyy` dates, decimal commas.

A text column whose every value is a dotted day-first date (`03.02.2026 15:19:52`) becomes a timestamp; slashed dates
(`03/02/2026`) only when some value shows the order (a day above 12). A column whose every value is a number with a
decimal comma (`1,779`, `1.234,5`) becomes float when the file's conventions say the comma is decimal: a `;` or tab
delimiter, `.` thousands groups before the comma, or a comma not followed by exactly three digits. In a file whose
numbers show a decimal comma (not comma-delimited), a column of whole numbers with `.` thousands groups (`1.234`,
`12.500`) is read as integers, not as the decimals 1.234 and 12.5. Anything else that looks locale-formatted is left as
text and named in a note, never silently dropped or misread.
"""
from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

DOTTED_DATE = r"^\d{1,2}\.\d{1,2}\.\d{4}(?: \d{1,2}:\d{2}(?::\d{2})?)?$"
SLASHED_DATE = r"^\d{1,2}/\d{1,2}/\d{4}(?: \d{1,2}:\d{2}(?::\d{2})?)?$"
COMMA_NUMBER = r"^[-+]?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?$"
GROUPED_INTEGER = r"^[-+]?(?:\d{1,3}(?:\.\d{3})+|\d+)$"


def _all(arr: pa.Array, pattern: str) -> bool:
    valid = arr.drop_null()
    return len(valid) > 0 and pc.all(pc.match_substring_regex(valid, pattern)).as_py()


def _parse_dates(arr: pa.Array, sep: str, day_first: bool) -> pa.Array | None:
    d, m = ("%d", "%m") if day_first else ("%m", "%d")
    padded = pc.replace_substring_regex(arr, r"^(\d)([./])", r"0\1\2")  # 3.2.2026 -> 03.2.2026
    padded = pc.replace_substring_regex(padded, r"^(\d\d[./])(\d)([./])", r"\10\2\3")
    out = None
    for fmt in (f"{d}{sep}{m}{sep}%Y %H:%M:%S", f"{d}{sep}{m}{sep}%Y %H:%M", f"{d}{sep}{m}{sep}%Y"):
        parsed = pc.strptime(padded, format=fmt, unit="s", error_is_null=True)
        out = parsed if out is None else pc.coalesce(out, parsed)
    if out.null_count != arr.null_count:
        return None
    return pc.cast(out, pa.timestamp("s", tz="UTC"))


def _slashed_order(arr: pa.Array) -> bool | None:
    """True = day first, False = month first, None = nothing shows which."""
    parts = pc.split_pattern(pc.utf8_slice_codeunits(arr.drop_null(), 0, 5), "/")
    first = pc.cast(pc.list_element(parts, 0), pa.int32())
    second = pc.cast(pc.list_element(parts, 1), pa.int32())
    if pc.any(pc.greater(first, 12)).as_py():
        return True
    if pc.any(pc.greater(second, 12)).as_py():
        return False
    return None


def _comma_is_decimal(arr: pa.Array, delimiter: str) -> bool:
    valid = arr.drop_null()
    if not pc.any(pc.match_substring(valid, ",")).as_py():
        return False
    if delimiter != ",":
        return True
    grouped = pc.any(pc.match_substring_regex(valid, r"\.\d{3},")).as_py()
    odd = pc.any(pc.match_substring_regex(valid, r",(?:\d{1,2}|\d{4,})$")).as_py()
    return bool(grouped or odd)


def _decimal_comma_file(table: pa.Table, delimiter: str) -> bool:
    for col in table.columns:
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            arr = pc.utf8_trim_whitespace(col.combine_chunks())
            if _all(arr, COMMA_NUMBER) and _comma_is_decimal(arr, delimiter):
                return True
    return False


def localize(table: pa.Table, delimiter: str, dotted: list[str] | tuple = ()) -> tuple[pa.Table, list[str]]:
    """(table with unambiguous locale columns typed, notes naming the columns left as text because ambiguous).

    `dotted`: columns a reader took for decimals (`1.234`) and handed back as text, to be read as grouped integers
    when the file shows a decimal comma, else as the decimals they were read as."""
    notes: list[str] = []
    comma_file = bool(dotted) and delimiter != "," and _decimal_comma_file(table, delimiter)
    for i, name in enumerate(table.column_names):
        col = table.column(i)
        if not pa.types.is_string(col.type) and not pa.types.is_large_string(col.type):
            continue
        arr = pc.utf8_trim_whitespace(col.combine_chunks())
        typed = None
        if name in dotted:
            grouped = comma_file and _all(arr, GROUPED_INTEGER)
            typed = pc.cast(pc.replace_substring(arr, ".", ""), pa.int64()) if grouped else pc.cast(arr, pa.float64())
        elif _all(arr, DOTTED_DATE):
            typed = _parse_dates(arr, ".", True)
        elif _all(arr, SLASHED_DATE):
            order = _slashed_order(arr)
            if order is None:
                notes.append(f"column {name!r}: dates like 01/02/2026 could be day or month first; kept as text")
            else:
                typed = _parse_dates(arr, "/", order)
        elif _all(arr, COMMA_NUMBER) and pc.any(pc.match_substring(arr.drop_null(), ",")).as_py():
            if _comma_is_decimal(arr, delimiter):
                typed = pc.cast(pc.replace_substring(pc.replace_substring(arr, ".", ""), ",", "."), pa.float64())
            else:
                notes.append(f"column {name!r}: 1,234 could be a thousands group or a decimal comma; kept as text")
        if typed is not None:
            table = table.set_column(i, name, typed)
    return table, notes
