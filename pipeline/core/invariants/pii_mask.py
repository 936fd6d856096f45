"""The one PII masking function for everything Strata writes for people (reports, baselines, generated suites, CLI
output, warehouse evidence, Dagster metadata, alert bodies). It applies the rules of `invariants/pii_rules.py`:
candidate regexes, then validators; `loose=True` masks every candidate without validating it. The lake and the
quarantine never pass through here: they keep the data as it was."""
from __future__ import annotations

import hashlib
import math
import re

from .pii_rules import PII_KINDS, PII_PATTERNS, VALIDATORS

_PATTERNS = {kind: re.compile(PII_PATTERNS[kind], re.ASCII) for kind in PII_KINDS}
_PREFILTER = re.compile(r"[0-9]|@", re.ASCII)  # every PII kind holds a digit or an '@': most text is skipped at once
_DIGIT_RUN = re.compile(r"[0-9](?:[ -]?[0-9]){13,}", re.ASCII)  # longer than the shortest card
MIN_PII_INT = 10 ** 8  # a smaller integer cannot be a phone, card or IBAN (SSNs and IPs need separators)


def pii_spans(text: str, loose: bool = False, inside_runs: bool = True) -> list[tuple[int, int, str]]:
    """(start, end, kind) of every PII match in `text` (validated unless `loose`), possibly overlapping.
    `inside_runs`: also valid card numbers inside longer digit runs (masking does; the rules' own scan does not)."""
    if not _PREFILTER.search(text):
        return []
    spans = []
    for kind, pattern in _PATTERNS.items():
        validate = VALIDATORS[kind]
        for m in pattern.finditer(text):
            if loose or validate(m.group(0)):
                spans.append((m.start(), m.end(), kind))
    if inside_runs and not loose:
        for m in _DIGIT_RUN.finditer(text):  # a card inside a longer run the card pattern took whole or split
            spans += _cards_inside(text, m.start(), m.group(0))
    return spans


def _cards_inside(text: str, start: int, candidate: str) -> list[tuple[int, int, str]]:
    """Valid card numbers within a longer digit run the card pattern took whole (`0 4111 1111 1111 1111`): the
    rules' leftmost match fails Luhn, but a person still reads a card number there."""
    digits = [i for i, c in enumerate(candidate) if "0" <= c <= "9"]
    found = []
    for i in range(len(digits)):
        for length in range(min(19, len(digits) - i), 12, -1):
            piece = candidate[digits[i]: digits[i + length - 1] + 1]
            if VALIDATORS["credit_card"](piece):
                found.append((start + digits[i], start + digits[i + length - 1] + 1, "credit_card"))
                break
    return found


def _mask_email(text: str) -> str:
    local, _, domain = text.rpartition("@")
    labels = domain.split(".")
    return f"{local[:1]}***@{labels[0][:1]}***.{labels[-1]}"


def _mask_other(text: str) -> str:
    """Every letter and digit but the last two becomes `*`; separators stay, so the shape remains readable."""
    keep = [i for i, c in enumerate(text) if c.isalnum()]
    last = set(keep[-2:])
    return "".join("*" if c.isalnum() and i not in last else c for i, c in enumerate(text))


def pseudonym(kind: str, piece: str) -> str:
    """A stable stand-in for one PII value (`email-3f9a0c1b2d`): keys stay distinct without holding the value."""
    return f"{kind}-{hashlib.sha256(piece.encode('utf-8', 'surrogatepass')).hexdigest()[:10]}"


def mask_pii(text: str, loose: bool = False, stable: bool = False) -> str:
    """`text` with every e-mail, phone, SSN, card, IPv4 and IBAN masked (`j***@e***.com`, `***-**-**89`);
    `stable=True` writes a pseudonym per value instead, for keys that must stay distinct (dedup keys)."""
    if not isinstance(text, str):
        return text
    spans = sorted(pii_spans(text, loose))
    if not spans:
        return text
    out, pos = [], 0
    merged: list[list] = []
    for start, end, kind in spans:
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
            merged[-1][2] = merged[-1][2] if merged[-1][2] == kind else "mixed"
        else:
            merged.append([start, end, kind])
    for start, end, kind in merged:
        out.append(text[pos:start])
        piece = text[start:end]
        out.append(pseudonym(kind, piece) if stable else _mask_email(piece) if kind == "email" else _mask_other(piece))
        pos = end
    out.append(text[pos:])
    masked = "".join(out)
    # a masked e-mail can leave a shorter candidate behind (`a.b@c.d@e.com`): mask until nothing is left
    return masked if masked == text or not pii_spans(masked, loose) else mask_pii(masked, loose, stable)


def mask_value(value, loose: bool = False):
    """Plain data (dicts, lists, tuples, strings, numbers) with every string, key and long integer masked; an
    integer that is PII-shaped becomes its masked text. Anything else is returned as it is."""
    if isinstance(value, str):
        return mask_pii(value, loose)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        if abs(value) < MIN_PII_INT:
            return value
        text = str(value)
        masked = mask_pii(text, loose)
        return value if masked == text else masked
    if isinstance(value, float):
        if value != value or value in (math.inf, -math.inf):
            return value
        if not value.is_integer():
            # 7.344748585870537: the rules read the 15 fraction digits as a card; 12 significant digits cannot be one
            return float(f"{value:.12g}") if pii_spans(repr(value)) else value
        if abs(value) < MIN_PII_INT or abs(value) > 1e20:
            return value
        masked = mask_value(int(value), loose)
        return value if isinstance(masked, int) else masked
    if isinstance(value, dict):
        return {mask_value(k, loose) if isinstance(k, str) else k: mask_value(v, loose) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_value(v, loose) for v in value]
    if isinstance(value, tuple):
        return tuple(mask_value(v, loose) for v in value)
    return value


def mask_invariant(inv):
    """An invariant (any dataclass with description/check/evidence) with its PII-shaped values masked."""
    from dataclasses import replace

    description, check, evidence = mask_value((inv.description, inv.check, inv.evidence))
    if (description, check, evidence) == (inv.description, inv.check, inv.evidence):
        return inv
    return replace(inv, description=description, check=check, evidence=evidence)


def has_pii(text: str) -> bool:
    """True when `text` holds a match the PII rules validate."""
    return bool(pii_spans(text, inside_runs=False))


def find_pii(text: str) -> list[tuple[str, str]]:
    """(kind, matched text) of every validated match: what a sweep reports."""
    return [(kind, text[s:e]) for s, e, kind in pii_spans(text, inside_runs=False)]


BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f"
_BIDI = re.compile(f"[{BIDI_CONTROLS}]")


def neutralize_bidi(text: str) -> str:
    """Bidi control characters shown as `<U+202E>` instead of silently reordering what people read."""
    return _BIDI.sub(lambda m: f"<U+{ord(m.group(0)):04X}>", text) if isinstance(text, str) else text


def for_people(value):
    """What every writer for people applies: PII masked, bidi controls made visible, in depth."""
    masked = mask_value(value)
    return _bidi_deep(masked)


def _bidi_deep(value):
    if isinstance(value, str):
        return neutralize_bidi(value)
    if isinstance(value, dict):
        return {_bidi_deep(k): _bidi_deep(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_bidi_deep(v) for v in value)
    return value
