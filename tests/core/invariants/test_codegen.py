"""emit_pytest: unique valid test names, mined values only as literals (adversarial content cannot run or break the
file), and generated tests that pass on the source they were mined from."""
from __future__ import annotations

import ast
import json
import keyword
import os
import subprocess
import sys

import pytest

from pipeline.core.invariants import Invariant, discover
from pipeline.core.invariants.codegen import docstring, emit_pytest, unique_test_names
from pipeline.core.ingest.engine import ingest
from pipeline.pytest_plugin import load_args


def payloads(marker) -> list[str]:
    return [
        "it's \"quoted\"", "triple ''' single", 'triple """ double', 'ends with a quote"', '""', "back\\slash\\",
        "new\nline", "carriage\rreturn", "nul\x00byte", f"__import__('os').system('touch {marker}')",
        f'"""; __import__("os").system("touch {marker}") #', "{} {0} {x!r} %s", "\u202eRTL override\u202c עברית",
        "emoji 🚀🔥", "\\N{BULLET} \\u0041 \\x00", "tab\there\x0bvt\x85nel\u2028ls", "x" * 3000,
    ]


def run_pytest(test_file, source, cwd):
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *load_args(),
                           str(test_file), "--strata-source", str(source)],
                          capture_output=True, text=True, cwd=cwd, timeout=120)


def test_names_are_unique_valid_identifiers():
    ids = ["structural:model:in_set:full", "structural-model-in_set-full", "structural model in set full?",
           "structural:model:in_set:full", "日本語", "", "---", "café:naïve", "9lives", "class", "a" * 300,
           "a" * 300 + "b", "statistical:model:share_between:share=gpt-4o", "statistical:model:share_between:share=gpt_4o"]
    names = unique_test_names(ids)
    assert len(set(names)) == len(ids)
    for name in names:
        assert name.isidentifier() and not keyword.iskeyword(name) and name.startswith("test_") and name.isascii()
    assert names[0] == "test_structural_model_in_set_full" and names[1].startswith("test_structural_model_in_set_full_")
    assert names[4] == "test_invariant" and names[7] == "test_cafe_naive" and len(names[10]) < 100
    assert unique_test_names(ids) == names  # deterministic


@pytest.mark.parametrize("text", ['plain', 'a"', '""""""', "\\", "x\\\"\"\"y", "l1\nl2\n", "\r\x00\u202e", "'''"])
def test_docstring_literal_round_trips(text):
    source = docstring(text, "    ")
    assert ast.literal_eval(source).replace("\n    ", "\n") == text


def adversarial_invariants(marker) -> list[Invariant]:
    out = []
    for i, p in enumerate(payloads(marker)):
        out.append(Invariant(
            id=f"structural:{p}:in_set:{i}", family="structural", description=f"model is one of {p}",
            confidence=1.0, support=10, total=10, severity="warning",
            check={"kind": "in_set", "field": "model", "values": [p, "b"], "pattern": p, p[:40]: [p], "max": 1e308},
            evidence={"examples": [{"line": 3, "value": p}], p[:20]: p}))
    return out


def test_adversarial_values_enter_only_as_literals(tmp_path):
    marker = tmp_path / "pwned"
    invariants = adversarial_invariants(marker)
    code = emit_pytest(invariants, baseline_path=f"b'''{marker}\"\"\".strata.json", source_hint=payloads(marker)[9])
    tree = ast.parse(code)
    compile(code, "generated.py", "exec")
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    assert len(functions) == len(invariants)
    for fn, inv in zip(functions, invariants):
        doc = ast.get_docstring(fn, clean=False)
        assert inv.description in doc.replace("\n    ", "\n")
        assigned = {n.targets[0].id: ast.literal_eval(n.value) for n in fn.body
                    if isinstance(n, ast.Assign) and n.targets[0].id in ("invariant", "check")}
        assert assigned["check"] == json.loads(json.dumps(inv.check)) and assigned["invariant"]["id"] == inv.id
        calls = {c.func.id for c in ast.walk(fn) if isinstance(c, ast.Call)}
        assert calls <= {"evaluate", "verdict", "failure_message"}  # nothing else is ever called
    module_calls = [c for stmt in tree.body if not isinstance(stmt, ast.FunctionDef)
                    for c in ast.walk(stmt) if isinstance(c, ast.Call)]
    assert module_calls == []
    namespace: dict = {}
    exec(compile(code, "generated.py", "exec"), namespace)  # importing the module runs no mined text
    assert not marker.exists()


def adversarial_rows(marker, n=240) -> list[dict]:
    bad = payloads(marker)
    return [{"ts": f"2025-01-01T00:{i // 60:02d}:{i % 60:02d}Z", "model": bad[i % 5], "service": bad[5 + i % 5],
             "prompt": f"question {i} {bad[(i + 3) % len(bad)]}", "response": f"{bad[i % len(bad)]} answer {i}",
             "outcome": bad[10 + i % 4], "latency_ms": 100 + i % 17, "tools": [bad[12 + i % 3]]} for i in range(n)]


def test_generated_file_from_adversarial_logs_passes_on_its_source(tmp_path):
    marker = tmp_path / "pwned"
    source = tmp_path / "logs.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in adversarial_rows(marker)) + "\n", encoding="utf-8")
    table, _ = ingest(str(source))
    invariants = discover(table, families=["structural", "statistical", "pii"])
    mined_values = {v for inv in invariants for v in inv.check.get("values") or []}
    assert mined_values & set(payloads(marker)), "the corpus should plant adversarial values in check specs"
    assert any(ch in inv.id for inv in invariants for ch in "\n\"'\\")
    test_file = tmp_path / "gen" / "test_mined.py"
    test_file.parent.mkdir()
    test_file.write_text(emit_pytest(invariants, source_hint=str(source)), encoding="utf-8")
    compile(test_file.read_text(encoding="utf-8"), str(test_file), "exec")
    done = run_pytest(test_file, source, tmp_path / "gen")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert f"{len(invariants)} passed" in done.stdout
    assert not marker.exists()
    assert not os.path.exists(tmp_path / "gen" / "pwned")
