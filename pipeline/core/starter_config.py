"""The commented strata.yml `strata init` writes: the roles inference found as editable overrides, the rest as
commented-out examples. Every value read from the source is written as an escaped JSON scalar (valid YAML)."""
from __future__ import annotations

import json
from collections import Counter

import pyarrow as pa
import pyarrow.compute as pc

from .config import Invariants, Sampling
from .entry_schema import ROLE_KINDS
from .ingest.engine import IngestResult
from .ingest.pricing import PriceTable

MAX_MODELS = 20


def yaml_value(value) -> str:
    """A one-line YAML scalar or flow collection: JSON with every non-ASCII and control character escaped (DEL too,
    which YAML does not accept raw), so no value can open a new line, key or comment."""
    return json.dumps(value, ensure_ascii=True).replace("\x7f", "\\u007f")


def _role_value(sources: list[dict]):
    items = []
    for s in sources:
        if s.get("transform", "auto") == "auto" and float(s.get("scale", 1.0)) == 1.0 and not s.get("end_path"):
            items.append(s["path"])
        else:
            items.append({k: v for k, v in s.items() if v is not None and (k, v) not in (("transform", "auto"), ("scale", 1.0))})
    return items[0] if len(items) == 1 else items


def _inferred(result: IngestResult) -> tuple[dict, dict, dict, list[str]]:
    """(role -> sources, constants, role -> best confidence, vendors) over every object read."""
    roles: dict[str, list[dict]] = {}
    constants: dict[str, str] = {}
    confidence: dict[str, float] = {}
    vendors: list[str] = []
    for report in result.sources:
        schema = report.schema or {}
        if schema.get("vendor"):
            vendors.append(str(schema["vendor"]))
            continue
        mapping = schema.get("mapping") or {}
        for role, sources in (mapping.get("roles") or {}).items():
            known = roles.setdefault(role, [])
            known.extend(s for s in sources if s not in known)
        for role, value in (mapping.get("constants") or {}).items():
            constants.setdefault(role, value)
        for a in schema.get("assignments") or []:
            confidence[a["role"]] = max(confidence.get(a["role"], 0.0), float(a.get("confidence", 0.0)))
    ok = lambda d: {r: v for r, v in d.items() if r in ROLE_KINDS}  # noqa: E731
    return ok(roles), ok(constants), confidence, sorted(set(vendors))


def _models(table: pa.Table) -> list[str]:
    if "model" not in table.column_names or table.num_rows == 0:
        return []
    counts = pc.value_counts(table.column("model").drop_null()).to_pylist()
    ranked = Counter({c["values"]: c["counts"] for c in counts if c["values"]})
    return [m for m, _ in ranked.most_common(MAX_MODELS)]


def starter_yaml(result: IngestResult, table: pa.Table) -> str:
    roles, constants, confidence, vendors = _inferred(result)
    formats = sorted(result.formats)
    out = [
        "# strata.yml, written by `strata init`. Strata reads it from --config, $STRATA_CONFIG, or the working",
        "# directory and its parents. Every section is optional; delete what you do not need.",
        "",
    ]
    if roles or constants:
        out += ["# Which raw field feeds each canonical role, as schema inference found it in the source.",
                "# Edit a path (JSONPath, e.g. \"$.usage.prompt_tokens\") if a field was misread, or delete a role",
                "# to let inference decide again. A list gives fallbacks tried in order.",
                "roles:"]
        for role, sources in roles.items():
            note = f"  # inferred, confidence {confidence[role]:.2f}" if role in confidence else ""
            out.append(f"  {role}: {yaml_value(_role_value(sources))}{note}")
        if constants:
            out += ["constants:  # a fixed value for a role the source never carries"]
            out += [f"  {role}: {yaml_value(value)}" for role, value in constants.items()]
        out.append("")
    else:
        out += ["# roles:  # which raw field feeds each canonical role; inference found nothing to override",
                "#   model: \"$.model\"", ""]
    if vendors:
        out += [f"# The source was read with the {', '.join(vendors)} adapter (its own field mapping); pin it with:",
                "# reading:", f"#   vendor_hint: {yaml_value(vendors[0])}", ""]
    elif formats:
        out += ["# reading:", f"#   format_hint: {yaml_value(formats[0])}  # skip content sniffing", ""]

    prices = PriceTable.default()
    out += ["# Prices in USD per 1M tokens fill cost_usd when a log has tokens but no cost. The built-in table",
            "# covers common models; add yours or override here.",
            "# prices:"]
    for model in _models(table) or ["my-model"]:
        known = prices.lookup(model)
        price = {"input_per_1m": known[0], "output_per_1m": known[1]} if known else {"input_per_1m": 0.0, "output_per_1m": 0.0}
        note = "  # built-in price" if known else "  # unknown: fill in"
        out.append(f"#   {yaml_value(model)}: {yaml_value(price)}{note}")
    sampling, inv = Sampling(), Invariants()
    out += [
        "",
        "# Read a sample instead of everything, for big sources:",
        "# sampling:",
        f"#   method: {sampling.method}  # random | stratified | importance | time",
        "#   max_rows: 1000000",
        f"#   seed: {sampling.seed}",
        "",
        "# Invariant mining and staleness (strata discover / save / check-staleness):",
        "# invariants:",
        f"#   min_confidence: {inv.min_confidence}",
        f"#   degraded_pp: {inv.degraded_pp}  # confidence drop, in points, that marks an invariant degraded",
        f"#   violated_pp: {inv.violated_pp}  # ... and violated (check-staleness exits 1)",
        "",
    ]
    return "\n".join(out)
