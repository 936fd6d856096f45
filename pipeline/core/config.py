"""strata.yml: role overrides, price table, sampling and reading options, validated with errors that name the setting."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .entry_schema import ROLE_KINDS
from .ingest.mapping import FieldSource, Mapping
from .ingest.pricing import PriceTable

CONFIG_ENV = "STRATA_CONFIG"
DEFAULT_NAME = "strata.yml"


class ConfigError(ValueError):
    """A setting is invalid; the message names the file and the setting."""


MAX_DAYS = 3650.0  # a window longer than ten years is a typo (1e308 would overflow every date computed from it)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)  # .nan / .inf are rejected in every number


class _UniqueKeyLoader(yaml.SafeLoader):
    """safe_load that rejects a key given twice in one mapping (YAML would silently keep the last one)."""

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                continue
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark,
                    f"duplicate key {key!r} (first at line {seen[key].line + 1})", key_node.start_mark)
            seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


class RoleSource(_Strict):
    path: str
    transform: str = "auto"
    scale: float = 1.0
    end_path: str | None = None


class Price(_Strict):
    input_per_1m: float = Field(ge=0)
    output_per_1m: float = Field(ge=0)


class Sampling(_Strict):
    method: Literal["random", "stratified", "importance", "time"] = "random"
    max_rows: int | None = Field(default=None, gt=0)
    seed: int = 0
    half_life_hours: float = Field(default=24.0, gt=0)


class Reading(_Strict):
    format_hint: Literal["jsonl", "json", "csv", "tsv", "logfmt", "access_log", "parquet", "avro"] | None = None
    vendor_hint: str | None = None
    chunk_rows: int = Field(default=250_000, gt=0)
    max_reject_share: float = Field(default=0.5, ge=0, le=1)  # more rejected than this: ingest/summary exit 1
    max_buffered_spans: int = Field(default=200_000, gt=0)  # trace assembly: spans held before traces are emitted


class Invariants(_Strict):
    window_days: float = Field(default=7.0, gt=0, le=MAX_DAYS)  # baseline window: days of data before the newest entry
    min_confidence: float = Field(default=0.8, ge=0, le=1)
    families: list[str] | None = None  # None = every registered family
    degraded_pp: float = Field(default=10.0, gt=0)  # staleness: confidence drop (percentage points) that degrades
    violated_pp: float = Field(default=30.0, gt=0)  # ... and that violates
    staleness_window_days: float = Field(default=1.0, gt=0, le=MAX_DAYS)  # the daily staleness check looks at this much

    @model_validator(mode="after")
    def _ordered(self):
        if self.degraded_pp > self.violated_pp:
            raise ValueError(f"degraded_pp ({self.degraded_pp:g}) must not exceed violated_pp ({self.violated_pp:g}): "
                             "a confidence drop degrades before it violates")
        return self


class DriftVerdict(_Strict):
    """SHIP / MONITOR / REVIEW / BLOCK: the stricter of the composite score's and the strongest dimension's verdict."""

    monitor: float = Field(default=0.05, ge=0, le=1)  # composite score from which to MONITOR
    review: float = Field(default=0.15, ge=0, le=1)
    block: float = Field(default=0.30, ge=0, le=1)
    dimension_review: float = Field(default=0.30, ge=0, le=1)  # one significant dimension this strong: REVIEW
    dimension_block: float = Field(default=0.80, ge=0, le=1)  # ... and this strong: BLOCK

    @model_validator(mode="after")
    def _ordered(self):
        if not self.monitor <= self.review <= self.block:
            raise ValueError(f"thresholds out of order: need monitor <= review <= block, got {self.monitor:g}, "
                             f"{self.review:g}, {self.block:g}")
        if self.dimension_review > self.dimension_block:
            raise ValueError(f"dimension_review ({self.dimension_review:g}) must not exceed dimension_block "
                             f"({self.dimension_block:g})")
        return self


class DriftSettings(_Strict):
    weights: dict[str, float] = Field(default_factory=dict)  # dimension name or group -> weight (overrides defaults)
    floors: dict[str, float] = Field(default_factory=dict)  # effect name -> practical-significance floor
    alpha: float = Field(default=0.05, gt=0, lt=1)  # after Benjamini-Hochberg
    bootstrap: int = Field(default=1000, ge=0)  # resamples for the 95% CI (0 = no CI)
    seed: int = 0
    window_days: float = Field(default=7.0, gt=0, le=MAX_DAYS)  # drop_drift: baseline = this many days before the drop
    by: str = "version"  # version_drift compares values of this column
    baseline: str | None = None  # version_drift: a configured pair; unset = the two newest values found
    current: str | None = None
    verdict: DriftVerdict = Field(default_factory=DriftVerdict)


class Segments(_Strict):
    """How detectors segment entries: the base columns, optional columns added when the log fills them (the
    operation: endpoint, route, span, prompt or agent name), and whether a segment that appears mid-stream starts
    from its parent's state (same service and operation, any model or version)."""

    columns: list[str] = Field(default_factory=lambda: ["service", "model", "version"],
                               description="columns every segment key is made of")
    optional: list[str] = Field(default_factory=lambda: ["operation"],
                                description="columns added to the segment key when the log fills them")
    prime_new: bool = Field(True, description="a segment appearing mid-stream starts from its parent's state")


class StrataConfig(_Strict):
    roles: dict[str, str | list[str | RoleSource] | RoleSource] = Field(default_factory=dict)
    constants: dict[str, str] = Field(default_factory=dict)
    prices: dict[str, Price] = Field(default_factory=dict)
    currency: str = "USD"
    sampling: Sampling = Field(default_factory=Sampling)
    reading: Reading = Field(default_factory=Reading)
    invariants: Invariants = Field(default_factory=Invariants)
    drift: DriftSettings = Field(default_factory=DriftSettings)
    segments: Segments = Field(default_factory=Segments)

    @field_validator("roles", "constants")
    @classmethod
    def _known_roles(cls, v: dict) -> dict:
        unknown = [r for r in v if r not in ROLE_KINDS]
        if unknown:
            raise ValueError(f"unknown role(s) {', '.join(map(repr, unknown))}; roles are {', '.join(ROLE_KINDS)}")
        return v

    def role_overrides(self) -> Mapping | None:
        if not self.roles and not self.constants:
            return None
        roles = {}
        for role, spec in self.roles.items():
            items = spec if isinstance(spec, list) else [spec]
            roles[role] = [
                FieldSource(_as_path(i)) if isinstance(i, str) else FieldSource(_as_path(i.path), i.transform, i.scale, i.end_path)
                for i in items
            ]
        return Mapping(roles, dict(self.constants))

    def price_table(self) -> PriceTable:
        overrides = {m: (p.input_per_1m, p.output_per_1m) for m, p in self.prices.items()}
        return PriceTable(PriceTable.default().with_overrides(overrides).prices, self.currency)


def _as_path(p: str) -> str:
    """Accept `usage.prompt_tokens` as well as JSONPath `$.usage.prompt_tokens`."""
    if p.startswith("$"):
        return p
    from .ingest.mapping import json_path

    return json_path(*p.split("."))


_UNION_MISS = ("string_type", "list_type", "model_type", "dict_type", "model_attributes_type")


def _relevant(errors: list[dict]) -> list[dict]:
    """Of the alternatives a union setting tried, the errors about the value itself (not "should be a string")."""
    real = [e for e in errors if e["type"] not in _UNION_MISS]
    return real or errors


def _loc(loc: tuple) -> str:
    """`roles.latency_ms.scale`, without pydantic's union branch names (`str`, `list[...]`, `RoleSource`)."""
    return ".".join(str(p) for p in loc if not (isinstance(p, str) and (p[:1].isupper() or p in ("str", "int", "float")
                                                                         or "[" in p)))


def find_config(explicit: str | os.PathLike | None = None, start: Path | None = None) -> Path | None:
    """--config, then $STRATA_CONFIG, then strata.yml in the working directory or its parents."""
    if explicit:
        return Path(explicit)
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if (d / DEFAULT_NAME).is_file():
            return d / DEFAULT_NAME
    return None


def load_config(path: str | os.PathLike | None = None, *, discover: bool = True) -> StrataConfig:
    """Load and validate a config file; with no file, the defaults."""
    found = find_config(path) if (path or discover) else None
    if found is None:
        return StrataConfig()
    if not Path(found).is_file():
        raise ConfigError(f"{found}: config file not found")
    try:
        data = yaml.load(Path(found).read_text(encoding="utf-8"), Loader=_UniqueKeyLoader) or {}  # noqa: S506 (safe)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{found}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{found}: expected a mapping of settings at the top level")
    try:
        return StrataConfig.model_validate(data)
    except ValidationError as exc:
        msgs = [f"{_loc(e['loc'])}: {e['msg']}" for e in _relevant(exc.errors())]
        raise ConfigError(f"{found}: invalid setting(s): " + "; ".join(msgs)) from exc
