"""Find every STRATA_* environment variable in the code base, with where it is read, its default and a description
taken from the code: a registry dict (`{"STRATA_X": (default, meaning)}`), `.env.example`, the comment on or above
the line that names it, or the docstring around it. Used by config_page.py (the generated configuration page) and
tests/test_docs_config.py; standard library only, so the docs build needs nothing but MkDocs."""
from __future__ import annotations

import ast
import io
import os
import re
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

NAME = re.compile(r"\bSTRATA_[A-Z0-9_]*[A-Z0-9]\b")
SKIP_DIRS = {".git", ".venv", ".venv-evidently", "node_modules", "__pycache__", "data", "site", ".dagster_home",
             "docs", ".hypothesis", ".pytest_cache", "build", "dist"}
TEXT_SUFFIXES = {".yml", ".yaml", ".toml", ".sh", ".cfg", ".ini", ".tpl", ".example", ".env", ".conf", ".service"}
TEXT_NAMES = {"Makefile", "Dockerfile", "run", "Procfile"}
# Names that appear in the code but are not settings (a Python constant that happens to share the prefix).
NOT_SETTINGS = {"STRATA_BINS": "pipeline/core/sampling.py: number of strata in stratified sampling, not a variable"}
# Descriptions for variables whose code carries none of the above (the docs' own small registry).
DOC_NOTES = {
    "STRATA_SOURCE": "the log source the generated invariant suites and `*.strata.json` baselines are checked "
                     "against when pytest gets no `--strata-source`",
    "STRATA_NO_NUMBA": "any non-empty value turns the compiled (numba) detector paths off: the numpy path runs",
    "STRATA_CHROMIUM": "path of the Chromium binary the report's browser tests drive (default: Debian's `chromium`)",
    "STRATA_REQUIRE_CHROMIUM": "`1` (set by `.ci/run`): the report's browser tests fail instead of skipping when "
                               "Chromium or Playwright is missing",
    "STRATA_EVIDENTLY_PYTHON": "Python of the Evidently venv `bench/drift_quality.py` compares against "
                               "(default `.venv-evidently/bin/python`, made by `make bench-evidently-env`)",
}
GROUPS = (  # (title, path prefixes): a variable goes in the first group any of its files falls in
    ("Capture SDK (`strata_capture`)", ("strata_capture/",)),
    ("Engine, CLI and Dagster resources", ("pipeline/", "resources/", "sensors/", "assets/", ".env.example")),
    ("Deployment profiles (`deploy/`)", ("deploy/",)),
    ("Tests, CI and benchmarks", ("",)),
)


@dataclass
class EnvVar:
    name: str
    files: set[str] = field(default_factory=set)
    default: str | None = None
    description: str = ""
    source: str = ""  # where the description came from

    @property
    def group(self) -> str:
        for title, prefixes in GROUPS:
            if any(f.startswith(p) for f in self.files for p in prefixes):
                return title
        return GROUPS[-1][0]


def repo_files(root: Path):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.endswith(".egg-info"))
        for name in sorted(filenames):
            p = Path(dirpath, name)
            if p.suffix == ".py" or p.suffix in TEXT_SUFFIXES or name in TEXT_NAMES or name.startswith(".env"):
                yield p


def string_names(src: str) -> dict[str, list[int]]:
    """STRATA_* names inside Python string literals (not identifiers such as a STRATA_BINS constant), with lines."""
    found: dict[str, list[int]] = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(src).readline):
            if tok.type == tokenize.STRING or getattr(tokenize, "FSTRING_MIDDLE", -1) == tok.type:
                for m in NAME.finditer(tok.string):
                    line = tok.start[0] + tok.string[:m.start()].count("\n")
                    found.setdefault(m.group(), []).append(line)
    except (tokenize.TokenError, SyntaxError):
        pass
    return found


def text_names(src: str) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for i, line in enumerate(src.splitlines(), 1):
        for m in NAME.finditer(line):
            found.setdefault(m.group(), []).append(i)
    return found


def _clean(text: str) -> str:
    return " ".join(text.split()).strip(" .:;")


def line_comment(lines: list[str], lineno: int, python: bool) -> str:
    """The trailing comment of the line, else the block of comment lines right above it."""
    line = lines[lineno - 1]
    if "#" in line:
        comment = line.split("#", 1)[1] if not python else _python_comment(line)
        if comment and not NAME.fullmatch(comment.strip()):
            return _clean(comment)
    above = []
    i = lineno - 2
    while i >= 0 and lines[i].strip().startswith("#"):
        above.insert(0, lines[i].strip().lstrip("#").strip())
        i -= 1
    return _clean(" ".join(above))


def _python_comment(line: str) -> str:
    try:
        for tok in tokenize.generate_tokens(io.StringIO(line).readline):
            if tok.type == tokenize.COMMENT:
                return tok.string.lstrip("#")
    except (tokenize.TokenError, SyntaxError):
        pass
    return ""


def registries(tree: ast.AST) -> dict[str, tuple[str | None, str]]:
    """Dict literals keyed by STRATA_* strings: values (default, meaning) or a meaning string."""
    out = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Dict):
            continue
        for k, v in zip(node.keys, node.values):
            if not (isinstance(k, ast.Constant) and isinstance(k.value, str) and NAME.fullmatch(k.value)):
                continue
            parts = v.elts if isinstance(v, ast.Tuple) else [v]
            strs = [p.value for p in parts if isinstance(p, ast.Constant) and isinstance(p.value, str)]
            if strs and len(strs) == len(parts):
                out[k.value] = (strs[0] if len(strs) > 1 else None, strs[-1])
    return out


def getter_defaults(tree: ast.AST) -> dict[str, str]:
    """`environ.get("STRATA_X", "lit")`, `os.getenv("STRATA_X", "lit")`: the literal is the default."""
    out = {}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("get", "getenv", "setdefault") and len(node.args) >= 2):
            k, d = node.args[0], node.args[1]
            if isinstance(k, ast.Constant) and isinstance(k.value, str) and NAME.fullmatch(k.value) \
                    and isinstance(d, ast.Constant) and d.value is not None:
                out.setdefault(k.value, str(d.value))
    return out


def enclosing_docs(tree: ast.AST, lineno: int) -> str:
    """First sentence of the innermost function/class docstring around a line, else the module's."""
    best, best_span = ast.get_docstring(tree) or "", None
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            end = getattr(node, "end_lineno", node.lineno)
            if node.lineno <= lineno <= end and (best_span is None or end - node.lineno < best_span):
                doc = ast.get_docstring(node)
                if doc:
                    best, best_span = doc, end - node.lineno
    return _clean(re.split(r"(?<=[.!?])\s", best.strip(), maxsplit=1)[0]) if best else ""


def env_example(root: Path) -> dict[str, tuple[str, str]]:
    """`.env.example`: NAME=default, described by the comment lines right above it."""
    p = root / ".env.example"
    if not p.is_file():
        return {}
    out, comments = {}, []
    for line in p.read_text(encoding="utf-8").splitlines():
        s = line.strip()
        if s.startswith("#"):
            comments.append(s.lstrip("#").strip())
        elif "=" in s and NAME.fullmatch(s.split("=", 1)[0].strip()):
            out[s.split("=", 1)[0].strip()] = (s.split("=", 1)[1].strip(), _clean(" ".join(comments)))
            comments = []
        else:
            comments = []
    return out


def scan(root: str | os.PathLike) -> dict[str, EnvVar]:
    """Every STRATA_* variable under root, sorted by name, each with files, default and description."""
    root = Path(root)
    found: dict[str, EnvVar] = {}
    registry: dict[str, tuple[str | None, str]] = {}
    defaults: dict[str, str] = {}
    comments: dict[str, str] = {}
    docs: dict[str, str] = {}
    for path in repo_files(root):
        rel = path.relative_to(root).as_posix()
        try:
            src = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if "STRATA_" not in src:
            continue
        python = path.suffix == ".py"
        names = string_names(src) if python else text_names(src)
        if not names:
            continue
        tree = None
        if python:
            try:
                tree = ast.parse(src)
            except SyntaxError:
                tree = None
        if tree is not None and not rel.startswith(("tests/", "bench/")):  # a test's fake values describe nothing
            for k, v in registries(tree).items():
                registry.setdefault(k, v)
            for k, v in getter_defaults(tree).items():
                defaults.setdefault(k, v)
        lines = src.splitlines()
        for name, linenos in names.items():
            if name in NOT_SETTINGS:
                continue
            var = found.setdefault(name, EnvVar(name))
            var.files.add(rel)
            for ln in linenos:
                if name not in comments:
                    c = line_comment(lines, ln, python)
                    if c:
                        comments[name] = c
                if tree is not None and name not in docs:
                    d = enclosing_docs(tree, ln)
                    if d:
                        docs[name] = d
    example = env_example(root)
    for name, var in found.items():
        reg = registry.get(name)
        ex = example.get(name)
        var.default = (reg[0] if reg and reg[0] is not None else None) or (ex[0] if ex else None) \
            or defaults.get(name) or ""
        for source, text in (("registry", reg[1] if reg else ""), (".env.example", ex[1] if ex else ""),
                             ("docs registry", DOC_NOTES.get(name, "")), ("comment", comments.get(name, "")),
                             ("docstring", docs.get(name, ""))):
            if text:
                var.description, var.source = text, source
                break
    return dict(sorted(found.items()))


def resource_bindings(root: str | os.PathLike) -> dict[tuple[str, str], list[str]]:
    """`SomeResource(field=dg.EnvVar("STRATA_X"))` (or any expression naming STRATA_X) anywhere in the code:
    (class name, field) -> the variables that set it."""
    root, out = Path(root), {}
    for path in repo_files(root):
        if path.suffix != ".py":
            continue
        src = path.read_text(encoding="utf-8", errors="replace")
        if "STRATA_" not in src:
            continue
        try:
            tree = ast.parse(src)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            cls = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            for kw in node.keywords:
                names = [c.value for c in ast.walk(kw.value) if isinstance(c, ast.Constant)
                         and isinstance(c.value, str) and NAME.fullmatch(c.value)]
                if cls and kw.arg and names:
                    bound = out.setdefault((cls, kw.arg), [])
                    bound.extend(n for n in names if n not in bound)
    return out
