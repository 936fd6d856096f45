"""The configuration page, generated from the code so it cannot drift: every `strata.yml` setting from the pydantic
models in pipeline/core/config.py, every STRATA_* variable the code reads (env_scan.py), and the Dagster resources'
fields. An MkDocs hook (`on_files` adds `configuration.md` at build time) and a script:
`python docs/hooks/config_page.py [--write FILE]` prints (or writes) the page."""
from __future__ import annotations

import inspect
import io
import json
import sys
import tokenize
import types
import typing
from pathlib import Path

import env_scan

ROOT = Path(__file__).resolve().parents[2]
PAGE = "configuration.md"
PLACEHOLDERS = {"roles": "<role>", "prices": "<model>", "constants": "<role>"}
# strata.yml settings whose model carries no description or comment (the docs' own small registry).
CONFIG_NOTES = {
    "roles": "override schema inference: role -> a dotted path, a JSONPath, a list of candidates, or a source "
             "with a transform and scale. Roles are the canonical entry's columns",
    "roles.<role>.path": "dotted path or JSONPath of the raw field",
    "roles.<role>.transform": "how the value is converted (`auto`: from the role's kind and the values)",
    "roles.<role>.scale": "multiply numbers by this (e.g. 1000 for seconds to milliseconds)",
    "roles.<role>.end_path": "a second timestamp field: the role is the difference (e.g. latency from start and end)",
    "constants": "a fixed value for a role every entry of the source shares, e.g. `{service: billing-agent}`",
    "prices": "USD per 1M tokens by model-name prefix (the longest prefix wins); merged over the built-in table "
              "covering OpenAI, Anthropic and Google models",
    "prices.<model>.input_per_1m": "price of 1M prompt tokens",
    "prices.<model>.output_per_1m": "price of 1M completion tokens",
    "currency": "currency label of the price table and of the financial impact in drift results",
    "sampling": "sampling for large drops (off unless `max_rows` is set); deterministic for a seed",
    "sampling.method": "`random`, `stratified` (by output length), `importance` (oversamples rare and anomalous "
                       "rows, adds a `sample_weight` column) or `time` (recent rows weighted)",
    "sampling.max_rows": "sample a drop down to this many rows; unset: no sampling",
    "sampling.seed": "seed of the sample",
    "sampling.half_life_hours": "`time` sampling: a row this much older than the newest has half the weight",
    "reading": "how sources are read",
    "reading.format_hint": "skip content sniffing and read as this format (the CLI's `--input-format`)",
    "reading.vendor_hint": "skip vendor detection (the CLI's `--vendor`)",
    "reading.chunk_rows": "rows per chunk when reading and normalizing large objects",
    "invariants": "mining and staleness thresholds",
    "invariants.min_confidence": "keep invariants holding on at least this share of rows",
    "invariants.families": "families to mine (structural, statistical, pii, relational, semantic, temporal, "
                           "session, custom ones); unset: all",
    "drift": "the drift engine: significance, practical floors, weights, bootstrap, verdict thresholds",
    "drift.seed": "seed of the bootstrap",
    "drift.current": "version_drift: the current side of the configured pair",
    "drift.verdict.review": "composite score from which to REVIEW",
    "drift.verdict.block": "composite score from which to BLOCK",
}


def _type(ann, nested: bool = False) -> str:
    origin, args = typing.get_origin(ann), typing.get_args(ann)
    if origin is typing.Literal:
        return "one of " + ", ".join(f"`{a}`" for a in args)
    if origin in (typing.Union, types.UnionType):
        parts = [a for a in args if a is not type(None)]
        text = " or ".join(_type(a, True) for a in parts) + (" or null" if len(parts) < len(args) else "")
        return f"({text})" if nested and len(args) > 1 else text
    if origin is list:
        return f"list of {_type(args[0], True)}"
    if origin is dict:
        return f"map of {_type(args[0], True)} to {_type(args[1], True)}"
    return getattr(ann, "__name__", str(ann))


def _models(ann) -> list[type]:
    """Pydantic models inside an annotation (directly, in a union, list or dict value)."""
    from pydantic import BaseModel

    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return [ann]
    return list(dict.fromkeys(m for a in typing.get_args(ann) for m in _models(a)))


def _value(v) -> str:
    if isinstance(v, str):
        return f"`{v}`" if v else "(empty)"
    return f"`{json.dumps(v, default=str)}`"


def _default(f) -> str:
    from pydantic_core import PydanticUndefined

    if f.default is not PydanticUndefined:
        return _value(f.default)
    if f.default_factory is not None:
        made = f.default_factory()
        return _value(made.model_dump(mode="json") if hasattr(made, "model_dump") else made)
    return "(required)"


def _bounds(f) -> str:
    marks = {"gt": ">", "ge": "≥", "lt": "<", "le": "≤"}
    return ", ".join(f"{marks[k]} {getattr(m, k)}" for m in f.metadata for k in marks if hasattr(m, k))


def _comments(model) -> dict[str, str]:
    """Field name -> the comment on its line (or the comment lines right above) in the class source."""
    try:
        src = inspect.getsource(model)
    except (OSError, TypeError):
        return {}
    lines, out, above = src.splitlines(), {}, []
    for line in lines[1:]:
        s = line.strip()
        if s.startswith("#"):
            above.append(s.lstrip("#").strip())
            continue
        name = s.split(":", 1)[0].strip()
        if name.isidentifier() and ":" in s:
            trailing = ""
            try:
                for tok in tokenize.generate_tokens(io.StringIO(s).readline):
                    if tok.type == tokenize.COMMENT:
                        trailing = tok.string.lstrip("#").strip()
            except tokenize.TokenError:  # a field spread over several lines: its first line's comment counts
                pass
            text = trailing or " ".join(above)
            if text:
                out[name] = " ".join(text.split()).strip(" .")
        above = []
    return out


def config_rows(model=None, prefix: str = "") -> list[dict]:
    """Every strata.yml setting as {key, type, default, bounds, description, section}."""
    if model is None:
        from pipeline.core.config import StrataConfig as model
    rows, comments = [], _comments(model)
    for name, f in model.model_fields.items():
        key = prefix + name
        nested = _models(f.annotation)
        doc = next((inspect.getdoc(m) for m in nested if m.__doc__ and "BaseModel" not in m.__doc__), "")
        desc = f.description or comments.get(name) or CONFIG_NOTES.get(key) or (doc or "").split("\n")[0]
        section = bool(nested) and nested == [f.annotation]
        rows.append({"key": key, "type": "section" if section else _type(f.annotation),
                     "default": "" if section else _default(f), "bounds": _bounds(f),
                     "description": " ".join(desc.split()).strip(" ."), "section": section})
        for m in nested:
            sub = key + "." if section else f"{key}.{PLACEHOLDERS.get(name, '<name>')}."
            rows.extend(config_rows(m, sub))
    return rows


def resource_rows() -> list[dict]:
    """Fields of every ConfigurableResource in resources/: class, field, default, the variables that set it."""
    import importlib
    import pkgutil

    import dagster as dg

    import resources

    bound, rows = env_scan.resource_bindings(ROOT), []
    for info in sorted(pkgutil.iter_modules(resources.__path__), key=lambda i: i.name):
        mod = importlib.import_module(f"resources.{info.name}")
        for cls_name, cls in inspect.getmembers(mod, inspect.isclass):
            if cls.__module__ != mod.__name__ or not issubclass(cls, dg.ConfigurableResource):
                continue
            comments = _comments(cls)
            for name, f in cls.model_fields.items():
                rows.append({"module": f"resources/{info.name}.py", "cls": cls_name, "field": name,
                             "default": _default(f), "env": bound.get((cls_name, name), []),
                             "description": " ".join((f.description or comments.get(name) or "").split()),
                             "doc": _summary(cls)})
    return rows


def _summary(obj) -> str:
    """The first paragraph of a docstring, on one line."""
    return " ".join((inspect.getdoc(obj) or "").split("\n\n")[0].split())


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(root: Path = ROOT) -> str:
    import yaml

    from pipeline.core.config import StrataConfig

    out = ["# Configuration", "",
           "<!-- Generated by docs/hooks/config_page.py from the code at build time: edit the code, not this page. -->",
           "", "Strata is configured in two places: **`strata.yml`** (how logs are read and analyzed: role overrides, "
           "prices, sampling, invariant and drift thresholds) and **environment variables** (where data lives, "
           "where alerts go). Every setting has a default that runs everything locally under `./data`. This page is "
           "generated from the code (the pydantic models in `pipeline/core/config.py`, every `STRATA_*` name the "
           "code reads, and the Dagster resources), and `tests/test_docs_config.py` fails if a setting is missing.",
           "", "## strata.yml", "",
           "Found via `--config`, then `$STRATA_CONFIG`, then `strata.yml` in the working directory or its parents "
           "(every `strata` command and the Dagster code location find it the same way). It is validated when "
           "loaded; an unknown or invalid setting is an error that names the file and the setting, e.g. "
           "`strata.yml: invalid setting(s): sampling.method: Input should be 'random', 'stratified', ...`. "
           "`strata init SOURCE` writes a commented one with the inferred roles.", "",
           "| setting | type | default | meaning |", "|---|---|---|---|"]
    for r in config_rows():
        if r["section"]:
            out.append(f"| **`{r['key']}`** | section | | {_cell(r['description'])} |")
            continue
        typ = r["type"] + (f" ({r['bounds']})" if r["bounds"] else "")
        out.append(f"| `{r['key']}` | {_cell(typ)} | {_cell(r['default'])} | {_cell(r['description'])} |")
    out += ["", "Every setting at its default:", "", "```yaml",
            yaml.safe_dump(StrataConfig().model_dump(mode="json"), sort_keys=False).rstrip(), "```", "",
            "An example with overrides:", "", "```yaml",
            "roles:                     # override inference: a dotted path, a JSONPath, or a list of candidates",
            "  input: payload.question", "  latency_ms: {path: took_s, scale: 1000}",
            "  tool_calls: \"$.steps[*].tool\"", "constants: {service: billing-agent}",
            "prices:                    # USD per 1M tokens; longest model-name prefix wins",
            "  my-finetune: {input_per_1m: 3.0, output_per_1m: 12.0}", "currency: USD",
            "sampling: {method: stratified, max_rows: 200000, seed: 7}",
            "reading: {format_hint: null, vendor_hint: null, chunk_rows: 250000}",
            "invariants: {min_confidence: 0.9, families: [structural, statistical, pii]}",
            "drift: {weights: {tools: 3, tool_usage: 4}, verdict: {review: 0.2}}", "```", "",
            "## Environment variables", "",
            "All optional: the defaults run everything locally. `.env.example` lists the runtime ones; the Dagster "
            "resources read them through `dg.EnvVar`, and a bad value fails the code location load naming the "
            "variable. \"Read in\" lists the files that name the variable.", ""]
    variables = env_scan.scan(root)
    for title, _ in env_scan.GROUPS:
        group = [v for v in variables.values() if v.group == title]
        if not group:
            continue
        out += [f"### {title}", "", "| variable | default | meaning | read in |", "|---|---|---|---|"]
        for v in group:
            files = ", ".join(f"`{f}`" for f in sorted(v.files))
            out.append(f"| `{v.name}` | {_cell(_value(v.default))} | {_cell(v.description)} | {files} |")
        out.append("")
    out += ["Not Strata's own, but honored: `DAGSTER_HOME` (Dagster's storage; the Makefile sets `./.dagster_home` "
            "and copies `dagster.yaml` there), the standard `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, "
            "`AWS_DEFAULT_REGION` (read by s3fs), and `OPENAI_API_KEY` for the OpenAI embedder.", "",
            "## Dagster resources", "",
            "The code location's resources and their fields; \"set by\" names the variables that feed a field "
            "(fields without one keep their default unless changed in code).", ""]
    last = None
    for r in resource_rows():
        if r["cls"] != last:
            last = r["cls"]
            out += ["", f"### `{r['cls']}` ({r['module']})", "", _cell(r["doc"]), "",
                    "| field | default | set by | meaning |", "|---|---|---|---|"]
        env = ", ".join(f"`{n}`" for n in r["env"]) or ""
        desc = r["description"] or "; ".join(variables[n].description for n in r["env"] if n in variables)
        out.append(f"| `{r['field']}` | {_cell(r['default'])} | {env} | {_cell(desc)} |")
    return "\n".join(out) + "\n"


def on_files(files, config):
    """MkDocs hook: add the generated page (under `mkdocs serve`, re-read from the code on every rebuild)."""
    import importlib

    from mkdocs.structure.files import File

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    for name in [m for m in sys.modules if m == "pipeline.core.config" or m.startswith("resources.")]:
        importlib.reload(sys.modules[name])
    files.append(File.generated(config, PAGE, content=render()))
    return files


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    text = render()
    if len(sys.argv) > 2 and sys.argv[1] == "--write":
        Path(sys.argv[2]).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
