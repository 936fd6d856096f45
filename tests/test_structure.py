"""Structural rules: the engine never imports dagster; every module says its job in a docstring."""
import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_core_never_imports_dagster():
    offenders = []
    for path in (REPO / "pipeline" / "core").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n == "dagster" or n.startswith(("dagster.", "dagster_")) for n in names):
                offenders.append(str(path.relative_to(REPO)))
    assert offenders == []


def test_every_module_has_a_docstring():
    missing = []
    for folder in ("pipeline", "assets", "sensors", "resources", "strata_capture"):
        for path in (REPO / folder).rglob("*.py"):
            if path.name == "__init__.py" and not path.read_text().strip():
                continue
            if not ast.get_docstring(ast.parse(path.read_text())):
                missing.append(str(path.relative_to(REPO)))
    assert missing == []


PACKAGES = ("pipeline", "assets", "sensors", "resources", "strata_capture")
MAX_LINES = 320  # "about 300": a module past this has two jobs


def _modules():
    for folder in PACKAGES:
        for path in (REPO / folder).rglob("*.py"):
            rel = path.relative_to(REPO).with_suffix("")
            parts = list(rel.parts)
            is_pkg = parts[-1] == "__init__"
            if is_pkg:
                parts = parts[:-1]
            yield ".".join(parts), is_pkg, path


def _absolute(node: ast.ImportFrom, module: str, is_pkg: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_pkg else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def test_no_module_over_about_300_lines():
    long = {str(p.relative_to(REPO)): n for _, _, p in _modules() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_no_private_name_imported_across_modules():
    offenders = []
    for module, is_pkg, path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and _absolute(node, module, is_pkg).split(".")[0] in PACKAGES:
                offenders += [f"{module}: {a.name}" for a in node.names if a.name.startswith("_") and a.name != "__version__"]
    assert offenders == []


def test_no_import_cycle_between_modules():
    """Module-level imports only: an import inside a function is the deliberate way to load late."""
    known = {m for m, _, _ in _modules()}
    graph: dict[str, set[str]] = {}
    for module, is_pkg, path in _modules():
        deps = set()
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ImportFrom):
                target = _absolute(node, module, is_pkg)
                for a in node.names:  # `from pkg import module` names a module; else the package itself
                    deps.add(f"{target}.{a.name}" if f"{target}.{a.name}" in known else target)
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names)
        graph[module] = {d for d in deps if d in known and d != module}
    cycles, state = [], {}

    def visit(node, stack):
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                cycles.append(" -> ".join(stack[stack.index(dep):] + [dep]))
            elif dep not in state:
                visit(dep, stack)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
    assert cycles == []
