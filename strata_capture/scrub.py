"""Content to text before anything touches disk: safe JSON of arbitrary objects, PII scrubbing, hash/none/raw modes.

Every input/output/message value passes through `content_text` exactly once, in the application thread, before the
span line is written. Nothing here raises: a hostile `__repr__`, a cycle or a failing custom mask degrades to a
placeholder (fail closed: a mask that raises drops the content instead of writing it unmasked).
"""
from __future__ import annotations

import hashlib
import json
import math
import re
from typing import Any, Callable

from .encode import make_dumps
from .pii import PII_PATTERNS, PRIORITY, VALIDATORS, iban_core

_MAX_DEPTH = 6
_MAX_ITEMS = 200
_MAX_REPR = 2_000
_COMPILED: dict[str, re.Pattern] = {}  # compiled on first use: keeps `import strata_capture` light
_ORDER = (*PRIORITY, "email")
# every PII kind needs one of these (an e-mail its @, the digit kinds two adjacent digits or digit.digit): one
# cheap scan rules out most texts before the six candidate patterns run
_MAY_HOLD_PII = re.compile(r"@|[0-9][0-9.]", re.ASCII)
_DIGIT_PAIR = re.compile(r"[0-9][0-9.]", re.ASCII)  # the same test once "@" is ruled out (half the cost)
_DIGITS = "0123456789"  # none in a long text: no digit pair, decided by substring scans (cheaper than the regex)
_SCANS_FROM = 200  # characters: shorter texts go straight to the regex (ten substring scans cost more there)
MASK_FAILED = "<content dropped: mask failed>"


def jsonable(value: Any, depth: int = 0) -> Any:
    """A JSON-serializable copy: containers and pydantic/dataclass-like objects walked, anything else as its repr."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else str(float(value))
    if depth >= _MAX_DEPTH:
        return "<max depth>"
    try:
        if isinstance(value, dict):
            out = {}
            for i, (k, v) in enumerate(value.items()):
                if i >= _MAX_ITEMS:
                    out["<truncated>"] = len(value) - _MAX_ITEMS
                    break
                out[k if isinstance(k, str) else safe_repr(k)] = jsonable(v, depth + 1)
            return out
        if isinstance(value, (list, tuple, set, frozenset)):
            items = list(value)[:_MAX_ITEMS]
            return [jsonable(v, depth + 1) for v in items]
        if isinstance(value, (bytes, bytearray)):
            return f"<{len(value)} bytes>"
        dump = getattr(type(value), "model_dump", None)  # pydantic v2 (the openai types)
        if callable(dump):
            return jsonable(dump(value, mode="json", warnings=False), depth + 1)
    except Exception:  # noqa: BLE001 - hostile containers/properties: fall back to the repr
        pass
    return safe_repr(value)


def safe_repr(value: Any) -> str:
    try:
        text = repr(value)
    except BaseException:  # noqa: BLE001 - a raising __repr__ must never reach the application
        return f"<unrepresentable {type(value).__name__}>"
    if not isinstance(text, str):
        return f"<unrepresentable {type(value).__name__}>"
    return text if len(text) <= _MAX_REPR else text[:_MAX_REPR] + "…"


def _default(value: Any) -> Any:
    """json.dumps fallback for objects it cannot encode: pydantic models dumped, bytes summarized, else the repr."""
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    dump = getattr(type(value), "model_dump", None)
    if callable(dump):
        try:
            return dump(value, mode="json", warnings=False)
        except Exception:  # noqa: BLE001
            pass
    return safe_repr(value)


dumps = make_dumps(_default)  # compact JSON text, objects via _default


def to_text(value: Any) -> str:
    """Compact JSON text of any value (strings as is)."""
    if isinstance(value, str):
        return value
    if type(value) in (dict, list, tuple, int, float, bool):  # the common case: straight to the C encoder
        try:
            return dumps(value)
        except Exception:  # noqa: BLE001 - cycles, odd keys, a raising model_dump: the careful walk below
            pass
    try:
        plain = jsonable(value)
        return plain if isinstance(plain, str) else json.dumps(plain, ensure_ascii=False, separators=(",", ":"))
    except Exception:  # noqa: BLE001 - e.g. a cycle or a hostile dict key
        return safe_repr(value)


# Every phone/SSN/card/IPv4 match is made of digits and ` .()+-` only, ends with a digit and starts at most one
# character (its `(` or `+`) before its first digit: it lies inside one of these runs (first to last digit of a
# stretch of such characters) or one character before it. Long texts are scanned once for the runs and the four
# digit patterns run only around runs of 7+ characters (the shortest match, an IPv4 address), near ones merged; the
# same matches as a scan of the whole text, at a fraction of the cost for text with numbers in it.
_DIGIT_RUN = re.compile(r"[0-9][0-9 .()+-]{5,}[0-9]", re.ASCII)
_DIGIT_KINDS = ("credit_card", "ssn", "phone", "ipv4")
_WINDOWED_FROM = 2_000  # characters: shorter texts are scanned whole (fewer calls)


def pii_spans(text: str, windowed: bool = True) -> list[tuple[int, int, str]]:
    """(start, end, kind) of validated PII in `text`, overlaps resolved by priority (IBAN > card > SSN > phone > IP).
    `windowed=False` scans the whole text with every pattern (the reference the windowed scan must equal)."""
    if _MAY_HOLD_PII.search(text) is None:
        return []
    found: list[tuple[int, int, str]] = []
    has_at = "@" in text
    if not _COMPILED:
        _COMPILED.update({k: re.compile(p, re.ASCII) for k, p in PII_PATTERNS.items()})
    windows = [(0, len(text))]
    if windowed and len(text) >= _WINDOWED_FROM:
        windows = _digit_windows(text)
    for kind in _ORDER:
        if kind == "email" and not has_at:
            continue
        validate = VALIDATORS[kind]
        pattern = _COMPILED[kind]
        matches = ((m for w in windows for m in pattern.finditer(text, *w)) if kind in _DIGIT_KINDS
                   else pattern.finditer(text))
        for m in matches:
            cand = m.group(0)
            try:
                ok = validate(cand)
            except (ValueError, IndexError):
                ok = False
            if not ok:
                continue
            start, end = m.start(), m.end()
            if kind == "iban":
                end = start + _core_end(cand)
            if any(s < end and start < e for s, e, _ in found):
                continue  # shadowed by a higher-priority kind
            found.append((start, end, kind))
    return sorted(found)


def _digit_windows(text: str) -> list[tuple[int, int]]:
    """(pos, endpos) around each digit run (one character before it, one after, so `\\b` sees its neighbours);
    windows less than 64 characters apart merged; the whole text when they cover half of it (or of its first 4,000+
    characters) or are many (more than one per 100 characters: four pattern calls per window would cost more than
    four whole scans)."""
    n, out, covered = len(text), [], 0
    for m in _DIGIT_RUN.finditer(text):
        start, end = max(0, m.start() - 1), min(n, m.end() + 1)
        if out and start - out[-1][1] < 64:
            covered += end - out[-1][1]
            out[-1] = (out[-1][0], end)
        else:
            covered += end - start
            out.append((start, end))
        if covered > n // 2 or len(out) > n // 100 or (end > 4_000 and 2 * covered > end):
            return [(0, n)]  # dense so far: the whole text it is
    return out


def _core_end(candidate: str) -> int:
    """Characters of an IBAN candidate that validation used (the loose pattern may swallow a trailing group)."""
    core, n = iban_core(candidate), 0
    seen = 0
    for i, ch in enumerate(candidate):
        if ch != " ":
            seen += 1
        if seen == len(core):
            n = i + 1
            break
    return n or len(candidate)


def scrub(text: str) -> str:
    """`text` with every validated PII value replaced by <EMAIL>, <PHONE>, <SSN>, <CREDIT_CARD>, <IPV4> or <IBAN>.

    Repeated until nothing changes: a replacement can create the word boundary that makes a neighbour PII
    ("a@b.com123-45-6789" -> "<EMAIL>123-45-6789" -> "<EMAIL><SSN>").
    """
    if "@" not in text:
        if len(text) >= _SCANS_FROM:
            for ch in _DIGITS:
                if ch in text:
                    break
            else:
                return text
        if _DIGIT_PAIR.search(text) is None:  # a lone digit ("u1", "step 3"): still nothing to find
            return text
    for _ in range(8):
        out = _scrub_once(text)
        if out == text:
            return out
        text = out
    return text


def _scrub_once(text: str) -> str:
    spans = pii_spans(text)
    if not spans:
        return text
    parts, pos = [], 0
    for start, end, kind in spans:
        parts.append(text[pos:start])
        parts.append(f"<{kind.upper()}>")
        pos = end
    parts.append(text[pos:])
    return "".join(parts)


def content_text(value: Any, mode: str, max_chars: int, mask: Callable[[str], str] | None = None) -> str | None:
    """What is written for one content value in `mode` ("scrub", "hash", "none", "raw"); None when nothing is."""
    if mode == "none" or value is None:
        return None
    text = value if type(value) is str else to_text(value)
    if len(text) > max_chars:
        text = text[:max_chars] + "…"
    if mode == "raw":
        return text
    text = scrub(text)
    if mask is not None:
        try:
            masked = mask(text)
        except Exception:  # noqa: BLE001 - fail closed
            return MASK_FAILED
        if not isinstance(masked, str):
            return MASK_FAILED
        text = masked
    if mode == "hash":
        return "sha256:" + hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()
    return text
