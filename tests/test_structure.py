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
    for folder in ("pipeline", "assets", "sensors", "resources"):
        for path in (REPO / folder).rglob("*.py"):
            if path.name == "__init__.py" and not path.read_text().strip():
                continue
            if not ast.get_docstring(ast.parse(path.read_text())):
                missing.append(str(path.relative_to(REPO)))
    assert missing == []
