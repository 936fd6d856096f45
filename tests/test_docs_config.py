"""The manual cannot drift from the code: the generated configuration page lists every environment variable the code
base names (scanned here independently of the generator) and every strata.yml field, each with a description; a
variable added anywhere shows up on its own; the site builds with `mkdocs build --strict`; the README's links resolve."""
from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "docs" / "hooks"))
import config_page  # noqa: E402
import env_scan  # noqa: E402

PREFIX = "STRATA" + "_"  # never spelled whole here, so this file adds no variable of its own
VAR = re.compile(r"\b" + PREFIX + r"[A-Z0-9_]*[A-Z0-9]\b")
SKIP = {".git", ".venv", ".venv-evidently", "node_modules", "__pycache__", "data", "site", ".dagster_home", "docs",
        ".hypothesis", ".pytest_cache", "build", "dist"}


def code_variables(root: Path) -> set[str]:
    """Every variable name in Python string literals, and anywhere in shell, YAML, TOML, Makefile or .env files."""
    names: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIP and not d.endswith(".egg-info")]
        for name in filenames:
            path = Path(dirpath, name)
            try:
                text = path.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue
            if PREFIX not in text:
                continue
            if path.suffix == ".py":
                for tok in tokenize.generate_tokens(io.StringIO(text).readline):
                    if tok.type == tokenize.STRING:
                        names.update(VAR.findall(tok.string))
            elif path.suffix in {".yml", ".yaml", ".toml", ".sh", ".example", ".tpl"} or name in {"Makefile", "run"}:
                names.update(VAR.findall(text))
    return names - set(env_scan.NOT_SETTINGS)


def table_rows(page: str) -> dict[str, list[str]]:
    """First cell (without backticks) -> the other cells, for every Markdown table row."""
    rows = {}
    for line in page.splitlines():
        if line.startswith("| ") and not line.startswith("|---"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            rows.setdefault(cells[0].strip("`*"), cells[1:])
    return rows


@pytest.fixture(scope="module")
def page() -> str:
    return config_page.render(REPO)


def test_every_variable_in_the_code_is_listed_with_a_description(page):
    rows = table_rows(page)
    found = code_variables(REPO)
    assert len(found) >= 25  # the runtime settings of pipeline/core/settings.py alone are 25
    missing = sorted(n for n in found if n not in rows)
    undescribed = sorted(n for n in found if n in rows and len(rows[n][1]) < 10)
    assert missing == [], f"variables named in the code but not on the configuration page: {missing}"
    assert undescribed == [], f"add a description where the code reads them (a registry entry or a comment): {undescribed}"
    assert rows[PREFIX + "LAKE_URL"][:2] == ["`./data/lake`", "normalized Parquet per drop and quarantine"]
    assert rows[PREFIX + "ALERT_MAX_ATTEMPTS"][0] == "`3`"


def _keys(model, prefix=""):
    """strata.yml keys by recursion over the pydantic models; a dict of models is `key.<anything>.field`."""
    from pydantic import BaseModel

    for name, f in model.model_fields.items():
        key = prefix + re.escape(name)
        yield key
        ann = f.annotation
        members = [ann] + [a for a in getattr(ann, "__args__", ()) for a in (a, *getattr(a, "__args__", ()))]
        for m in {m for m in members if isinstance(m, type) and issubclass(m, BaseModel)}:
            yield from _keys(m, key + (r"\." if m is ann else r"\.<[^>]+>\."))


def test_every_strata_yml_setting_is_listed_with_a_description(page):
    from pipeline.core.config import StrataConfig

    rows = table_rows(page)
    keys = list(_keys(StrataConfig))
    assert len(keys) >= 40
    for key in keys:
        hits = [k for k in rows if re.fullmatch(key, k)]
        assert hits, f"strata.yml setting {key} is not on the configuration page"
        assert all(len(rows[k][-1]) >= 5 for k in hits), f"strata.yml setting {key} has no description"
    assert rows["invariants.degraded_pp"][:2] == ["float (> 0)", "`10.0`"]
    assert rows["sampling.method"][0] == "one of `random`, `stratified`, `importance`, `time`"
    assert "block: 0.3" in page  # the defaults block is rendered from StrataConfig()


def test_resource_fields_name_the_variables_that_set_them(page):
    section = page.split("### `WebhookAlertResource`")[1].split("###")[0]
    rows = table_rows(section)
    assert rows["secret"][1] == f"`{PREFIX}ALERT_WEBHOOK_SECRET`"
    assert rows["timeout_seconds"][:2] == ["`10.0`", ""]


def test_a_variable_added_anywhere_shows_up_with_its_description(tmp_path):
    host, port, pool, const = (PREFIX + s for s in ("ZZ_PG_HOST", "ZZ_PG_PORT", "ZZ_CAPTURE_POOL", "ZZ_BINS"))
    (tmp_path / "pipeline").mkdir()
    (tmp_path / "pipeline" / "pg.py").write_text(
        '"""Postgres settings."""\nimport os\n\n'
        f'HOST = os.environ.get("{host}", "db.local")  # host of the Postgres server\n'
        f'{const} = 10\n', encoding="utf-8")
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "values.yaml").write_text(
        f"env:\n  # port the Postgres server listens on\n  - name: {port}\n    value: '5432'\n", encoding="utf-8")
    (tmp_path / "strata_capture").mkdir()
    (tmp_path / "strata_capture" / "settings.py").write_text(
        f'"""Capture settings."""\nENV = {{"{pool}": ("4", "threads sending captured records")}}\n', encoding="utf-8")

    found = env_scan.scan(tmp_path)
    assert sorted(found) == sorted([host, port, pool])  # the constant is code, not a variable
    assert (found[host].default, found[host].description) == ("db.local", "host of the Postgres server")
    assert found[port].description == "port the Postgres server listens on"
    assert (found[pool].default, found[pool].description) == ("4", "threads sending captured records")
    assert (found[host].group, found[port].group, found[pool].group) == (
        "Engine, CLI and Dagster resources", "Deployment profiles (`deploy/`)", "Capture SDK (`strata_capture`)")

    rows = table_rows(config_page.render(tmp_path))
    assert rows[host][:2] == ["`db.local`", "host of the Postgres server"]
    assert rows[pool][:2] == ["`4`", "threads sending captured records"]
    assert rows[port][1] == "port the Postgres server listens on"


def test_the_site_builds_strictly(tmp_path):
    """Broken links, pages missing from the nav and a failing generator all fail the build (a few seconds)."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    html = (tmp_path / "site" / "configuration" / "index.html").read_text(encoding="utf-8")
    assert PREFIX + "WAREHOUSE_PATH" in html and "drift.verdict.dimension_block" in html
    assert "fonts.googleapis" not in html and "fonts.gstatic" not in html


def test_readme_links_resolve_and_it_stays_a_front_page():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 160
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", readme)
    assert targets
    broken = [t for t in targets if not t.startswith(("http://", "https://")) and not (REPO / t).exists()
              and t != "docs/configuration.md"]  # generated at build time
    assert broken == []


def test_variable_names_are_spelled_whole_in_the_code():
    """A name built at run time (`"<prefix>PG_" + key`, `f"<prefix>{key}"`) could never be listed: spell names whole,
    e.g. in a registry dict `{name: (default, meaning)}` as pipeline/core/settings.py does."""
    built = re.compile(r"^[rbfuRBFU]*(['\"]{1,3})" + PREFIX + r"[A-Z0-9_]*(_\1$|\{)")
    offenders = []
    for dirpath, dirnames, filenames in os.walk(REPO):
        dirnames[:] = [d for d in dirnames if d not in SKIP and not d.endswith(".egg-info")]
        for name in filenames:
            path = Path(dirpath, name)
            text = path.read_text(encoding="utf-8", errors="replace") if name.endswith(".py") else ""
            if PREFIX in text:
                for tok in tokenize.generate_tokens(io.StringIO(text).readline):
                    if tok.type == tokenize.STRING and built.match(tok.string):
                        offenders.append(f"{path.relative_to(REPO)}:{tok.start[0]}: {tok.string}")
    assert offenders == []


def test_the_lint_above_catches_built_names(tmp_path):
    built = re.compile(r"^[rbfuRBFU]*(['\"]{1,3})" + PREFIX + r"[A-Z0-9_]*(_\1$|\{)")
    assert built.match(f'"{PREFIX}PG_"') and built.match(f'f"{PREFIX}{{key}}"')
    assert not built.match(f'"{PREFIX}PG_HOST"') and not built.match(f'"""Reads {PREFIX}PG_* variables."""')


def _help(*argv: str) -> str:
    import contextlib

    from pipeline.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        main([*argv, "--help"])
    return out.getvalue()


def test_every_command_and_option_of_the_cli_is_documented():
    """The pages under docs/cli/ mention every `strata` command and every long option its --help lists."""
    pages = "\n".join(p.read_text(encoding="utf-8") for p in sorted((REPO / "docs" / "cli").glob("*.md")))
    top = _help()
    commands = re.search(r"\{([a-z,-]+)\}", top).group(1).split(",")
    assert {"summary", "ingest", "diff", "report"} <= set(commands)
    undocumented = [c for c in commands if f"strata {c}" not in pages]
    options = {c: set(re.findall(r"(?<![\w-])--[a-z][a-z-]+", _help(c))) - {"--help"} for c in commands}
    options[""] = set(re.findall(r"(?<![\w-])--[a-z][a-z-]+", top)) - {"--help"}
    missing = sorted(f"strata {c} {o}".replace("  ", " ") for c, opts in options.items() for o in opts
                     if f"`{o}" not in pages and f"[{o}" not in pages)
    assert undocumented == [] and missing == [], (undocumented, missing)
