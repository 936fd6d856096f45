"""Capture settings: one frozen dataclass, every field also read from a `STRATA_CAPTURE_<FIELD>` environment variable.

Explicit `configure(...)` arguments win over the environment, which wins over the defaults.
"""
from __future__ import annotations

import json
import os
import re
from typing import Any

CONTENT_MODES = ("scrub", "hash", "none", "raw")


def default_spool_root() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "strata-capture")


# name -> (default, type); the comments are the documentation (docs/capture.md repeats them)
FIELDS: dict[str, tuple] = {
    "drop_url": (None, str),  # file path, file://, s3://, gs://, az://... (None: spool only, publish later)
    "service": ("unknown_service", str),
    "version": (None, str),
    "environment": (None, str),
    "content": ("scrub", str),  # scrub: PII -> <KIND>; hash: sha256 of the scrubbed text; none: dropped; raw
    "sample_rate": (1.0, float),  # share of traces kept, decided once per trace at its root
    "spool_dir": (None, str),  # default: ~/.cache/strata-capture/<service>
    "max_spool_bytes": (1 << 30, int),  # spans beyond this are dropped (newest first) and counted
    "segment_bytes": (8 << 20, int),  # a segment is sealed at this size...
    "segment_age_s": (30.0, float),  # ...or this age
    "flush_interval_s": (5.0, float),  # background publisher period
    "exit_timeout_s": (2.0, float),  # longest the process waits at exit for the final publish
    "orphan_timeout_s": (600.0, float),  # spans of a trace whose root never finished are published after this
    "storage_options": (None, dict),  # fsspec options for remote drop URLs
    "publisher": ("thread", str),  # "thread": background publisher in the process; "none": a sidecar publishes
    "max_field_chars": (32_000, int),  # longer input/output text is cut
    "inject_stream_usage": (False, bool),  # add stream_options.include_usage to streams (extra chunk hidden)
    "metrics": ("auto", str),  # "auto": Prometheus metrics when prometheus-client is installed; "on"; "off"
    "enabled": (True, bool),
    "mask": (None, None),  # callable(str) -> str after the built-in scrub; if it raises, content is dropped
    "prices": (None, dict),  # model -> [USD per 1M input tokens, USD per 1M output tokens]
}

# Every variable by its whole name: (default, meaning). from_env reads exactly these; the docs list them.
ENV_VARS: dict[str, tuple[str, str]] = {  # noqa: E501
    "STRATA_CAPTURE_DROP_URL": ('', 'file path, file://, s3://, gs://, az://... (None: spool only, publish later)'),
    "STRATA_CAPTURE_SERVICE": ('unknown_service', 'the service name on every span and in the drop folder capture-<service>-<hour>'),
    "STRATA_CAPTURE_VERSION": ('', 'deployment or prompt version on every span'),
    "STRATA_CAPTURE_ENVIRONMENT": ('', 'deployment environment on every span (prod, staging, ...)'),
    "STRATA_CAPTURE_CONTENT": ('scrub', 'scrub: PII -> <KIND>; hash: sha256 of the scrubbed text; none: dropped; raw'),
    "STRATA_CAPTURE_SAMPLE_RATE": ('1.0', 'share of traces kept, decided once per trace at its root'),
    "STRATA_CAPTURE_SPOOL_DIR": ('', 'default: ~/.cache/strata-capture/<service>'),
    "STRATA_CAPTURE_MAX_SPOOL_BYTES": ('1073741824', 'spans beyond this are dropped (newest first) and counted'),
    "STRATA_CAPTURE_SEGMENT_BYTES": ('8388608', 'a segment is sealed at this size...'),
    "STRATA_CAPTURE_SEGMENT_AGE_S": ('30.0', '...or this age'),
    "STRATA_CAPTURE_FLUSH_INTERVAL_S": ('5.0', 'background publisher period'),
    "STRATA_CAPTURE_EXIT_TIMEOUT_S": ('2.0', 'longest the process waits at exit for the final publish'),
    "STRATA_CAPTURE_ORPHAN_TIMEOUT_S": ('600.0', 'spans of a trace whose root never finished are published after this'),
    "STRATA_CAPTURE_STORAGE_OPTIONS": ('', 'fsspec options for remote drop URLs'),
    "STRATA_CAPTURE_PUBLISHER": ('thread', '"thread": background publisher in the process; "none": a sidecar publishes'),
    "STRATA_CAPTURE_MAX_FIELD_CHARS": ('32000', 'longer input/output text is cut'),
    "STRATA_CAPTURE_INJECT_STREAM_USAGE": ('false', 'add stream_options.include_usage to streams (extra chunk hidden)'),
    "STRATA_CAPTURE_METRICS": ('auto', '"auto": Prometheus metrics when prometheus-client is installed; "on"; "off"'),
    "STRATA_CAPTURE_ENABLED": ('true', 'false turns capture off entirely (decorators and wrappers pass through)'),
    "STRATA_CAPTURE_PRICES": ('', 'model -> [USD per 1M input tokens, USD per 1M output tokens]'),
}


class Settings:
    """Immutable capture settings (see FIELDS)."""

    __slots__ = tuple(FIELDS)

    def __init__(self, **values: Any) -> None:
        unknown = set(values) - set(FIELDS)
        if unknown:
            raise TypeError(f"unknown capture settings: {sorted(unknown)}")
        for name, (default, _) in FIELDS.items():
            v = values.get(name, default)
            if v is None and FIELDS[name][1] is dict:
                v = {}
            object.__setattr__(self, name, v)
        if self.content not in CONTENT_MODES:
            raise ValueError(f"content must be one of {CONTENT_MODES}, got {self.content!r}")
        if not 0.0 <= float(self.sample_rate) <= 1.0:
            raise ValueError("sample_rate must be within [0, 1]")
        if self.metrics not in ("auto", "on", "off"):
            raise ValueError("metrics must be auto, on or off")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Settings are immutable: call configure(...) again")

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in FIELDS}

    def __repr__(self) -> str:
        return f"Settings({', '.join(f'{k}={v!r}' for k, v in self.as_dict().items() if k != 'storage_options')})"

    @property
    def spool_path(self) -> str:
        return self.spool_dir or os.path.join(default_spool_root(), safe_name(self.service))


def safe_name(text: str) -> str:
    """A service name usable in a file or object name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(text)).strip("._") or "service"


def _parse(kind: Any, raw: str) -> Any:
    if kind is bool:
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if kind is int:
        return int(float(raw))
    if kind is float:
        return float(raw)
    if kind is dict:
        return json.loads(raw) if raw.strip() else {}
    return raw


def from_env(environ: dict | None = None, **overrides: Any) -> Settings:
    """Settings from STRATA_CAPTURE_* variables, then explicit (non-None) overrides."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for var in ENV_VARS:
        name = var.split("_", 2)[2].lower()  # STRATA_CAPTURE_DROP_URL -> drop_url
        raw = environ.get(var)
        if raw is not None:
            values[name] = _parse(FIELDS[name][1], raw)
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(**values)
