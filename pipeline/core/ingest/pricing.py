"""Fills cost_usd from token counts and a price table when a log has tokens but no cost."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# USD per 1M tokens (input, output), list prices; override or extend in strata.yml under `prices`.
DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4-turbo": (10.00, 30.00),
    "gpt-4": (30.00, 60.00),
    "gpt-3.5-turbo": (0.50, 1.50),
    "gpt-5-nano": (0.05, 0.40),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5": (1.25, 10.00),
    "o1-mini": (1.10, 4.40),
    "o1": (15.00, 60.00),
    "o3-mini": (1.10, 4.40),
    "o3": (2.00, 8.00),
    "o4-mini": (1.10, 4.40),
    "claude-3-5-haiku": (0.80, 4.00),
    "claude-3-5-sonnet": (3.00, 15.00),
    "claude-3-7-sonnet": (3.00, 15.00),
    "claude-3-haiku": (0.25, 1.25),
    "claude-3-opus": (15.00, 75.00),
    "claude-sonnet-4": (3.00, 15.00),
    "claude-opus-4": (15.00, 75.00),
    "claude-haiku-4": (1.00, 5.00),
    "gemini-1.5-flash": (0.075, 0.30),
    "gemini-1.5-pro": (1.25, 5.00),
    "gemini-2.0-flash": (0.10, 0.40),
    "gemini-2.5-flash": (0.30, 2.50),
    "gemini-2.5-pro": (1.25, 10.00),
    "mistral-large": (2.00, 6.00),
    "mistral-small": (0.20, 0.60),
}


@dataclass(frozen=True)
class PriceTable:
    prices: dict[str, tuple[float, float]]
    currency: str = "USD"

    @classmethod
    def default(cls) -> "PriceTable":
        return cls(dict(DEFAULT_PRICES))

    def with_overrides(self, overrides: dict[str, tuple[float, float]]) -> "PriceTable":
        return PriceTable({**self.prices, **{k.lower(): v for k, v in overrides.items()}}, self.currency)

    def lookup(self, model: str | None) -> tuple[float, float] | None:
        """Longest-prefix match on the model name, ignoring a provider prefix like 'openai/'."""
        if not model:
            return None
        name = model.lower().rsplit("/", 1)[-1]
        best = None
        for prefix in self.prices:
            if name.startswith(prefix) and (best is None or len(prefix) > len(best)):
                best = prefix
        return self.prices[best] if best else None


def fill_costs(entries: pa.Table, prices: PriceTable) -> tuple[pa.Table, int]:
    """Entries with cost_usd computed where it is null and tokens and a known model exist; and how many were filled."""
    cost = entries.column("cost_usd")
    if entries.num_rows == 0 or cost.null_count == 0:
        return entries, 0
    models = entries.column("model")
    uniq = pc.unique(models).to_pylist()
    rates = {m: prices.lookup(m) for m in uniq if m is not None}
    known = [m for m, r in rates.items() if r]
    if not known:
        return entries, 0
    idx = pc.fill_null(pc.index_in(models, value_set=pa.array(known, pa.string())), -1).to_numpy().astype(np.int64)
    in_rate = np.array([rates[m][0] for m in known] + [np.nan]) / 1e6
    out_rate = np.array([rates[m][1] for m in known] + [np.nan]) / 1e6
    pt = entries.column("prompt_tokens").to_numpy(zero_copy_only=False).astype(float)
    ct = entries.column("completion_tokens").to_numpy(zero_copy_only=False).astype(float)
    has_tokens = ~(np.isnan(pt) & np.isnan(ct))
    computed = np.nan_to_num(pt) * in_rate[idx] + np.nan_to_num(ct) * out_rate[idx]
    old = cost.to_numpy(zero_copy_only=False).astype(float)
    fill = np.isnan(old) & has_tokens & (idx >= 0)
    new = np.where(fill, computed, old)
    arr = pa.array(new, pa.float64(), mask=np.isnan(new))
    return entries.set_column(entries.schema.get_field_index("cost_usd"), "cost_usd", arr), int(fill.sum())
