"""Role mappings (which raw JSON path plays which canonical role) and their compilation to one DuckDB query."""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field

from ..entry_schema import ROLE_KINDS

# How a raw value is read into its role. "auto" picks by the role's kind.
TRANSFORMS = (
    "auto",
    "string",  # scalar as text
    "text",  # strings as-is, objects/arrays as compact JSON text
    "number",  # double, times `scale`
    "integer",  # bigint (accepts "12.0"), times `scale`
    "timestamp",  # ISO-8601 text or unix epoch number (unit guessed by magnitude)
    "ts_s",
    "ts_ms",
    "ts_us",
    "ts_ns",
    "duration_ms",  # (end_path - path) as milliseconds; both timestamps
    "duration_text",  # a duration written with its unit(s) ("1.2s", "350ms", "12µs", "1m2.5s") as milliseconds
    "names",  # a list of names: the path must contain [*]; or a comma-separated string
    "status",  # normalized to ok / error / the raw value lower-cased
    "error_if_present",  # status: "error" when the value is there (an error code or object), else no status from it
    "refusal",  # a finish reason: a provider's refusal (REFUSAL_REASONS) gives status "error" / error "blocked: <it>"
    "refusal_text",  # a model's own refusal message (OpenAI message.refusal): status "error" / error "blocked: refusal"
    "otel_severity",  # status from a numeric level: OTel SeverityNumber (1-24; 17+ ERROR/FATAL is "error")
    "pino_level",  # pino / bunyan levels (10-60; 50+ error/fatal is "error")
    "syslog_severity",  # syslog severities (0-7; 0-3 emergency..error is "error")
)

# one or more <number><unit> parts (Rust's Duration debug "1.234s", Go's "1m2.5s", "350 ms"); units in DURATION_UNITS
DURATION_TEXT = r"^\s*(\d+(\.\d+)?\s*(ns|us|µs|μs|ms|s|sec|secs|m|min|mins|h|hr|hrs)\s*)+$"
DURATION_UNITS = {"ns": 1e-6, "us": 1e-3, "µs": 1e-3, "μs": 1e-3, "ms": 1.0, "s": 1e3, "sec": 1e3, "secs": 1e3,
                  "m": 6e4, "min": 6e4, "mins": 6e4, "h": 3.6e6, "hr": 3.6e6, "hrs": 3.6e6}
NULL_TOKENS = ("", "null", "none", "nan", "n/a", "na", "-", "nil", "undefined")
# log levels and severities count too, for a log line's level standing in for a status: ERROR/FATAL/ALERT lines are
# errors; INFO/DEBUG lines and WARN ones (a request that logged a warning did not fail) ok
ERROR_STATUSES = ("error", "failed", "failure", "fail", "exception", "timeout", "status_code_error", "err", "false",
                  "cancelled", "fatal", "critical", "crit", "panic", "alert", "emerg", "emergency",
                  # spreadsheet exports in other languages (de, fr, es, it, pt, nl)
                  "fehler", "fehlgeschlagen", "erreur", "echec", "échec", "fallo", "errore", "erro", "fout")
OK_STATUSES = ("ok", "success", "succeeded", "completed", "complete", "status_code_ok", "status_code_unset", "true",
               "done", "default", "unset", "info", "information", "informational", "debug", "trace", "notice", "warn",
               "warning")

# finish / stop reasons (lower-cased) by which a provider's safety system refused to answer: OpenAI content_filter,
# Bedrock content_filtered (Titan CONTENT_FILTERED), Anthropic refusal, Gemini's SAFETY...; read by the `refusal`
# transform of pure mappings and by vendors/refusals.py from whole response bodies
REFUSAL_REASONS = ("content_filter", "content_filtered", "refusal", "safety", "recitation", "blocklist",
                   "prohibited_content", "spii", "image_safety", "image_prohibited_content", "image_recitation")

# numeric log levels as statuses: transform -> SQL condition on the number `d` that makes the line an error
LEVEL_ERRORS = {"otel_severity": "{d} >= 17", "pino_level": "{d} >= 50", "syslog_severity": "{d} <= 3"}

_SIMPLE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class JsonString:
    """A key step meaning "the string here holds JSON; read on inside it" (one marker object: `DECODE`)."""

    def __repr__(self) -> str:
        return "DECODE"


DECODE = JsonString()
DECODE_SEP = "|"  # in a path: '$.response.body|$.usage.prompt_tokens' reads the body string as JSON, then the usage


def json_path(*keys: str | int) -> str:
    """Build a DuckDB JSONPath from keys: json_path("a", "b.c", 0) == '$.a."b.c"[0]'; a DECODE step starts a
    path inside the JSON string reached so far: json_path("body", DECODE, "id") == '$.body|$.id'."""
    out = "$"
    for k in keys:
        if k is DECODE:
            out += DECODE_SEP + "$"
        elif isinstance(k, int):
            out += f"[{k}]"
        elif k == "*":
            out += "[*]"
        elif _SIMPLE_KEY.match(k):
            out += f".{k}"
        else:
            out += '."' + k.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return out


def path_chain(path: str) -> list[str]:
    """A path split at its DECODE steps (separators inside quoted keys are part of the key)."""
    out, start, quoted, i = [], 0, False, 0
    while i < len(path):
        c = path[i]
        if c == "\\" and quoted:
            i += 2
            continue
        if c == '"':
            quoted = not quoted
        elif not quoted and path.startswith(DECODE_SEP + "$", i):
            out.append(path[start:i])
            start = i + len(DECODE_SEP)
        i += 1
    return out + [path[start:]]


def within_sql(value: str, path: str) -> str:
    """SQL reading on from `value` (the text at the path's first step) through each DECODE step: the string so far is
    read as JSON (a string that is not JSON gives NULL). Paths without DECODE steps give `value` unchanged."""
    for step in path_chain(path)[1:]:
        value = f"try(json_extract_string({value}, {sql_str(step)}))"
    return value


def extract_sql(doc: str, path: str) -> str:
    """SQL for the text at `path` of the JSON text `doc`."""
    return within_sql(f"try(json_extract_string({doc}, {sql_str(path_chain(path)[0])}))", path)


def path_keys(path: str) -> list[str] | None:
    """The object keys of a JSONPath with no array steps, or None (array paths cannot be removed by a merge patch,
    nor can a path inside a JSON string: that string stays in attributes whole)."""
    if not path.startswith("$") or "[" in path or len(path_chain(path)) > 1:
        return None
    keys, i, s = [], 1, path
    while i < len(s):
        if s[i] != ".":
            return None
        i += 1
        if i < len(s) and s[i] == '"':
            j, buf = i + 1, []
            while j < len(s) and s[j] != '"':
                if s[j] == "\\" and j + 1 < len(s):
                    j += 1
                buf.append(s[j])
                j += 1
            keys.append("".join(buf))
            i = j + 1
        else:
            j = i
            while j < len(s) and s[j] != ".":
                j += 1
            keys.append(s[i:j])
            i = j
    return keys or None


@dataclass(frozen=True)
class FieldSource:
    """One candidate raw location for a role."""

    path: str
    transform: str = "auto"
    scale: float = 1.0
    end_path: str | None = None

    def __post_init__(self) -> None:
        if self.transform not in TRANSFORMS:
            raise ValueError(f"unknown transform {self.transform!r} for path {self.path}; expected one of {TRANSFORMS}")
        if self.transform == "duration_ms" and not self.end_path:
            raise ValueError(f"transform duration_ms for path {self.path} needs end_path")


@dataclass
class Mapping:
    """Role -> candidate sources (coalesced in order), plus constant fallbacks (e.g. the provider a vendor implies)."""

    roles: dict[str, list[FieldSource]] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for role in list(self.roles) + list(self.constants):
            if role not in ROLE_KINDS:
                raise ValueError(f"unknown role {role!r}; roles are {', '.join(ROLE_KINDS)}")

    def to_dict(self) -> dict:
        return {
            "roles": {r: [asdict(s) for s in srcs] for r, srcs in self.roles.items()},
            "constants": dict(self.constants),
        }

    @classmethod
    def from_dict(cls, d: dict) -> "Mapping":
        return cls(
            roles={r: [FieldSource(**s) for s in srcs] for r, srcs in d.get("roles", {}).items()},
            constants=dict(d.get("constants", {})),
        )

    def merged(self, override: "Mapping") -> "Mapping":
        """This mapping with `override`'s roles replacing (not appending to) the same roles."""
        return Mapping({**self.roles, **override.roles}, {**self.constants, **override.constants})

    def mapped_paths(self) -> list[str]:
        """Paths of each role's primary candidate: fallbacks stay in attributes, since a row may not have used them."""
        paths = []
        for srcs in self.roles.values():
            if srcs:
                paths.append(srcs[0].path)
                if srcs[0].end_path:
                    paths.append(srcs[0].end_path)
        return paths


def sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def attributes_patch(mapping: Mapping) -> str:
    """A JSON merge patch that removes every mapped object path, so attributes keep only what was not mapped."""
    patch: dict = {}
    for p in mapping.mapped_paths():
        keys = path_keys(p)
        if not keys:
            continue
        node = patch
        for k in keys[:-1]:
            nxt = node.get(k)
            if nxt is None:
                nxt = node[k] = {}
            elif not isinstance(nxt, dict):  # a parent is already removed whole
                break
            node = nxt
        else:
            node[keys[-1]] = None
    return json.dumps(patch, ensure_ascii=False)
