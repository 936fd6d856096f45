"""Synthetic LLM-service logs in the canonical schema, with optional planted drift, for quality tests and benches."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..entry_schema import CANONICAL_SCHEMA

MODELS = {  # name: (share, provider, median latency ms, $ per 1k prompt tokens, $ per 1k completion tokens)
    "gpt-4o": (0.50, "openai", 900.0, 0.0025, 0.010),
    "gpt-4o-mini": (0.35, "openai", 450.0, 0.00015, 0.0006),
    "claude-3-5-sonnet": (0.15, "anthropic", 1100.0, 0.003, 0.015),
}
TOOLS = {"search_kb": 0.60, "lookup_order": 0.25, "create_ticket": 0.10}
OUTCOMES = {"resolved": 0.80, "escalated": 0.05, "abandoned": 0.15}
QUESTIONS = [
    "How do I reset my password?", "Where is my order?", "Can I change my delivery address?",
    "Why was I charged twice?", "How do I cancel my subscription?", "What is your refund policy?",
    "My app keeps crashing on startup.", "How can I upgrade my plan?", "Is there a student discount?",
    "How do I export my data?", "The invoice shows the wrong company name.", "Can I pause my account?",
]
CLAUSES = [
    "I tried the settings page already.", "This started after the last update.", "I am on the pro plan.",
    "It happens on both my phone and laptop.", "I need this fixed before Friday.", "My colleague has the same issue.",
    "I already contacted support once.", "The error message is not helpful.",
]
SENTENCES = [
    "Thanks for reaching out.", "You can reset it from the account page.", "Your order is on its way.",
    "The address can be changed until the parcel ships.", "We refunded the duplicate charge.",
    "Cancellation takes effect at the end of the billing period.", "Refunds are processed within five days.",
    "Please reinstall the latest version of the app.", "Upgrades apply immediately.",
    "Students get twenty percent off with a valid email.", "Exports are available under data settings.",
    "We corrected the company name on the invoice.", "Accounts can be paused for up to three months.",
    "Let me know if anything else comes up.", "I have added a note to your ticket.",
]
REFUSAL = "I'm sorry, I can't help with that request."
PII_VALUES = {
    "email": "jane.doe@example.com", "phone": "(212) 867-5309", "ssn": "219-09-9999",
    "credit_card": "4111 1111 1111 1111", "ipv4": "192.168.17.23", "iban": "DE89 3704 0044 0532 0130 00",
}


@dataclass(frozen=True)
class Drift:
    """Planted changes; `None` or a neutral factor switches one off."""

    pii_rate: float = 0.003
    latency_factor: float = 1.4
    removed_tool: str | None = "lookup_order"
    added_json_key: str | None = "lang"
    model_switch: tuple[str, str] | None = ("gpt-4o", "gpt-4.1")
    switch_after: float = 0.8
    escalation_factor: float = 3.0


def _s(values) -> pa.Array:
    return pa.array(values, pa.string()) if not isinstance(values, (pa.Array, pa.ChunkedArray)) else values


def _cat(*parts) -> pa.Array:
    return pc.binary_join_element_wise(*[p if isinstance(p, str) else _s(p) for p in parts], "")


def _pick(pool: list[str], idx: np.ndarray) -> pa.Array:
    return pa.array(pool, pa.string()).take(pa.array(idx))


def _hex(rng: np.random.Generator, n: int, nbytes: int) -> np.ndarray:
    table = np.array([f"{i:02x}".encode() for i in range(256)], dtype="S2").view(np.uint16)
    raw = rng.integers(0, 256, size=(n, nbytes), dtype=np.uint8)
    return table[raw].view(f"S{2 * nbytes}").ravel().astype(str)


def _choice(rng, options: dict, n: int) -> np.ndarray:
    names = list(options)
    p = np.array([options[k] if not isinstance(options[k], tuple) else options[k][0] for k in names], float)
    return np.array(names)[rng.choice(len(names), size=n, p=p / p.sum())]


CHUNK_ROWS = 100_000  # text is built chunk by chunk so a million rows never hold every intermediate at once


def generate_entries(n: int, seed: int = 0, drift: Drift | None = None, start: str = "2025-01-06", days: float = 7.0) -> pa.Table:
    """`n` entries over `days` days in time order; with `drift`, the planted changes are applied."""
    rng = np.random.default_rng(seed)
    t0 = np.datetime64(start, "us").astype(np.int64)
    ts = t0 + np.sort(rng.integers(0, int(days * 86_400e6), n))
    turns = rng.geometric(1 / 3, size=n // 2 + 10)
    session_of_row = np.repeat(np.arange(len(turns)), turns)[:n]
    n_sessions = int(session_of_row.max()) + 1 if n else 0
    sessions = {
        "session_id": np.char.add("s-", _hex(rng, n_sessions, 6)),
        "user_id": np.char.add("u-", rng.integers(0, max(1, int(n_sessions * 0.7)), n_sessions).astype(str)),
        "model_idx": rng.choice(len(MODELS), size=n_sessions, p=[v[0] for v in MODELS.values()]),
        "service": _choice(rng, {"support-bot": 0.7, "billing-bot": 0.3}, n_sessions),
    }
    leaks = np.flatnonzero(rng.random(n) < drift.pii_rate) if drift and drift.pii_rate else np.array([], np.int64)
    chunks = []
    for k, lo in enumerate(range(0, n, CHUNK_ROWS)):
        hi = min(n, lo + CHUNK_ROWS)
        chunks.append(_chunk(np.random.default_rng([seed, k]), lo, hi, n, ts[lo:hi], session_of_row[lo:hi],
                             sessions, leaks, drift, seed))
    return pa.concat_tables(chunks) if chunks else CANONICAL_SCHEMA.empty_table()


def _chunk(rng, lo: int, hi: int, n_total: int, ts, session_of_row, sessions, leaks, drift, seed) -> pa.Table:
    n = hi - lo
    names = list(MODELS)
    model_idx = sessions["model_idx"][session_of_row]
    model = np.array(names)[model_idx]
    if drift and drift.model_switch:
        old, new = drift.model_switch
        model = np.where((np.arange(lo, hi) >= int(n_total * drift.switch_after)) & (model == old), new, model)
    provider = np.array([v[1] for v in MODELS.values()])[model_idx]

    clauses = rng.integers(0, 5, n)
    clause_pool = CLAUSES + [""]
    cl = [np.where(clauses > j, rng.integers(0, len(CLAUSES), n), len(CLAUSES)) for j in range(4)]
    inp = pc.utf8_rtrim_whitespace(_cat(_pick(QUESTIONS, rng.integers(0, len(QUESTIONS), n)),
                                        *[_cat(" ", _pick(clause_pool, c)) for c in cl]))
    n_sent = np.clip(1 + clauses + rng.integers(0, 2, n), 1, 6)
    sent_pool = SENTENCES + [""]
    parts = [_pick(sent_pool, np.where(n_sent > j, rng.integers(0, len(SENTENCES), n), len(SENTENCES))) for j in range(6)]
    answer = pc.utf8_rtrim_whitespace(_cat(*[_cat(p, " ") for p in parts]))
    answer = pc.if_else(pa.array(rng.random(n) < 0.02), REFUSAL, answer)
    mine = leaks[(leaks >= lo) & (leaks < hi)]
    if len(mine):
        kinds = list(PII_VALUES)
        leak = np.full(n, "", dtype=object)
        leak[mine - lo] = [f" Contact: {PII_VALUES[kinds[int(i) % len(kinds)]]}." for i in np.searchsorted(leaks, mine)]
        answer = _cat(answer, pa.array(leak, pa.string()))
    conf = pc.cast(pa.array(np.round(rng.uniform(0.55, 0.99, n), 2)), pa.string())
    src = _cat("[\"kb-", pc.cast(pa.array(rng.integers(100, 999, n)), pa.string()), "\"]")
    follow = pc.if_else(pa.array(rng.random(n) < 0.10), ", \"follow_up\": \"Anything else?\"", "")
    extra = f", \"{drift.added_json_key}\": \"en\"" if drift and drift.added_json_key else ""
    output = _cat("{\"answer\": \"", answer, "\", \"confidence\": ", conf, ", \"sources\": ", src, follow, extra, "}")

    errors = rng.random(n) < 0.03
    err = pa.array(errors)
    output = pc.if_else(err, pa.scalar(None, pa.string()), output)
    error_msg = pc.if_else(err, _pick(["upstream timeout", "rate limited"], rng.integers(0, 2, n)), pa.scalar(None, pa.string()))

    in_len = pc.utf8_length(inp).to_numpy().astype(float)
    out_len = pc.utf8_length(pc.fill_null(output, "")).to_numpy().astype(float)
    prompt_tokens = (in_len / 4 + 120 + rng.integers(0, 20, n)).astype(np.int64)
    completion = np.where(errors, 0, out_len / 4 + rng.integers(0, 8, n)).astype(np.int64)
    med = np.array([v[2] for v in MODELS.values()])[model_idx]
    latency = med * np.exp(rng.normal(0, 0.35, n)) * (0.6 + 0.4 * completion / 60.0)
    if drift:
        latency = latency * drift.latency_factor
    prices = np.array([[v[3], v[4]] for v in MODELS.values()])[model_idx]
    cost = (prompt_tokens * prices[:, 0] + completion * prices[:, 1]) / 1000

    tool_p = dict(TOOLS)
    if drift and drift.removed_tool:
        tool_p[drift.removed_tool] = 0.0
    tools = list(TOOLS)
    mask = np.column_stack([rng.random(n) < tool_p[t] for t in tools])
    offsets = np.concatenate([[0], np.cumsum(mask.sum(axis=1))]).astype(np.int32)
    tool_calls = pa.ListArray.from_arrays(pa.array(offsets), pa.array(np.array(tools)[np.nonzero(mask)[1]], pa.string()))

    outcome_p = dict(OUTCOMES)
    if drift and drift.escalation_factor != 1:
        esc = OUTCOMES["escalated"] * drift.escalation_factor
        rest = (1 - esc) / (1 - OUTCOMES["escalated"])
        outcome_p = {k: (esc if k == "escalated" else v * rest) for k, v in OUTCOMES.items()}

    cols = {
        "entry_id": _hex(rng, n, 8),
        "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
        "drop": pa.array(np.full(n, f"synthetic-{seed}")),
        "source": pa.array(np.full(n, "synthetic.jsonl")),
        "line": pa.array(np.arange(lo + 1, hi + 1, dtype=np.int64)),
        "request_id": _uuid(rng, n),
        "session_id": sessions["session_id"][session_of_row],
        "user_id": sessions["user_id"][session_of_row],
        "trace_id": pc.if_else(pa.array(rng.random(n) < 0.92), _s(_hex(rng, n, 16)), pa.scalar(None, pa.string())),
        "service": sessions["service"][session_of_row],
        "model": model, "provider": provider,
        "version": _choice(rng, {"v1.4.2": 0.6, "v1.5.0": 0.4}, n),
        "environment": _choice(rng, {"prod": 0.95, "staging": 0.05}, n),
        "input": inp, "output": output,
        "output_kind": pc.if_else(err, pa.scalar(None, pa.string()), "json"),
        "latency_ms": np.round(latency, 1), "prompt_tokens": prompt_tokens,
        "completion_tokens": pa.array(completion, mask=errors), "cost_usd": np.round(cost, 6),
        "status": np.where(errors, "error", "ok"), "error": error_msg, "tool_calls": tool_calls,
        "outcome": _choice(rng, outcome_p, n), "branch_path": pa.nulls(n, pa.list_(pa.string())),
        "attributes": _choice(rng, {'{"region": "eu-west", "tier": "pro"}': 0.4, '{"region": "us-east", "tier": "free"}': 0.6}, n),
    }
    cols = {f.name: cols.get(f.name, pa.nulls(n, f.type)) for f in CANONICAL_SCHEMA}  # roles it does not plant
    arrays = [cols[f.name] if isinstance(cols[f.name], (pa.Array, pa.ChunkedArray)) else pa.array(cols[f.name], f.type)
              for f in CANONICAL_SCHEMA]
    return pa.Table.from_arrays([a.cast(f.type) for a, f in zip(arrays, CANONICAL_SCHEMA)], schema=CANONICAL_SCHEMA)


def _uuid(rng, n: int) -> pa.Array:
    h = pa.array(_hex(rng, n, 16), pa.string())
    sl = [pc.utf8_slice_codeunits(h, a, b) for a, b in ((0, 8), (8, 12), (12, 16), (16, 20), (20, 32))]
    return pc.binary_join_element_wise(*sl, "-")
