"""Pytest plugin `strata`: the --strata-source option, the session-scoped `strata_entries` fixture, and every
`*.strata.json` baseline under the test paths collected as one test item per invariant (staleness rules)."""
from __future__ import annotations

import fnmatch
import os
import warnings
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # the engine is imported only when a Strata test runs: this plugin autoloads in every pytest run
    from .core.invariants.model import CheckResult, Invariant
    from .core.invariants.staleness import StalenessResult

SOURCE_ENV = "STRATA_SOURCE"
NO_SOURCE = f"no Strata log source: pass --strata-source PATH (or set ${SOURCE_ENV}) to check invariants"
_INGESTED = pytest.StashKey[dict]()
_STALENESS = pytest.StashKey[dict]()


class StrataDegradedWarning(UserWarning):
    """An invariant still holds well enough to pass, but its confidence fell by more than the degraded threshold."""


class InvariantViolated(AssertionError):
    """A baseline invariant is violated on the source."""


def load_args() -> list[str]:
    """pytest arguments that load this plugin exactly once: none when the `strata` pytest11 entry point autoloads
    it (passing -p as well would register it twice, an error), else -p pipeline.pytest_plugin."""
    from importlib.metadata import entry_points

    installed = any(ep.name == "strata" and ep.value.startswith(__name__) for ep in entry_points(group="pytest11"))
    return [] if installed and not os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD") else ["-p", __name__]


def pytest_addoption(parser) -> None:
    group = parser.getgroup("strata", "Strata invariants")
    group.addoption("--strata-source", default=None, metavar="SOURCE",
                    help=f"log source (path, glob, directory or URL) invariant tests run against; default ${SOURCE_ENV}")
    group.addoption("--strata-baseline-glob", default="*.strata.json", metavar="GLOB",
                    help="file names collected as baselines, one test per invariant (default: *.strata.json)")
    group.addoption("--strata-config", default=None, metavar="PATH",
                    help="strata.yml used to read the source (default: $STRATA_CONFIG, else ./strata.yml or a parent's)")


def source_of(config) -> str | None:
    return config.getoption("strata_source", default=None) or os.environ.get(SOURCE_ENV) or None


def _settings(config):
    from .core.config import load_config

    return load_config(config.getoption("strata_config", default=None))


def entries_for(config):
    """The source's canonical entries, ingested once per session (skips when no source is given)."""
    source = source_of(config)
    if not source:
        pytest.skip(NO_SOURCE)
    cache = config.stash.setdefault(_INGESTED, {})
    if source not in cache:
        from .core import ingest as ingest_module
        from .core.settings import storage_options_from_env

        try:
            table, _ = ingest_module.ingest(source, config=_settings(config), storage_options=storage_options_from_env())
            cache[source] = (table, None)
        except Exception as exc:  # remembered so every test reports it without reading the source again
            cache[source] = (None, exc)
    table, error = cache[source]
    if error is not None:
        raise RuntimeError(f"strata: cannot read {source}: {error}") from error
    return table


@pytest.fixture(scope="session")
def strata_entries(request):
    """Canonical entries of --strata-source / $STRATA_SOURCE, read once per session."""
    return entries_for(request.config)


def _thresholds(config) -> tuple[float, float]:
    inv = getattr(_settings(config), "invariants", None)
    return float(getattr(inv, "degraded_pp", 10.0)), float(getattr(inv, "violated_pp", 30.0))


# --- judging one evaluation (shared by generated test files and baseline items) ------------------------------
def _examples(evidence: dict, limit: int = 5) -> str:
    shown = []
    for ex in (evidence.get("examples") or [])[:limit]:
        if isinstance(ex, dict):
            where = f"line {ex.get('line')}" if ex.get("line") is not None else f"entry {ex.get('entry_id')!r}"
            what = ex.get("value", ex.get("match"))
            shown.append(f"  {where}: {what!r}" if what is not None else f"  {where}")
        else:
            shown.append(f"  {ex!r}")
    return "\n".join(shown)


def describe(status: str, invariant: dict, confidence_now: float, support: int, total: int, evidence: dict) -> str:
    then = float(invariant["confidence"])
    lines = [f"{invariant['id']!r} {status}: confidence then {then:.4f}, now {confidence_now:.4f} "
             f"({(confidence_now - then) * 100:+.2f} pp); holds on {support}/{total} applicable rows"]
    examples = _examples(evidence)
    if examples:
        lines += ["examples:", examples]
    from .core.invariants.pii_mask import mask_pii

    return mask_pii("\n".join(lines))  # failure messages end up in CI logs: PII masked


def verdict(invariant: dict, result: CheckResult, degraded_pp: float = 10, violated_pp: float = 30) -> str:
    """holds / degraded / violated, by the staleness rules; skips the test when the field is missing and warns
    (StrataDegradedWarning) when degraded."""
    from .core.invariants.model import Invariant
    from .core.invariants.staleness import classify

    inv = Invariant(id=invariant["id"], family=invariant["family"], description="",
                    confidence=float(invariant["confidence"]), support=int(invariant.get("support", 0)),
                    total=int(invariant.get("total", 0)), severity=invariant["severity"], check={})
    violations = result.total - result.support if result.evidence.get("violations") is not None else 0
    status = classify(inv, result.confidence, violations, result.missing, degraded_pp, violated_pp,
                      gate=result.evidence.get("gate"))
    if status == "missing":
        pytest.skip(f"{invariant['id']!r}: {result.evidence.get('reason', 'field absent or all null')} in this source")
    if status == "degraded":
        warnings.warn(StrataDegradedWarning(failure_message(invariant, result, "degraded")), stacklevel=2)
    return status


def failure_message(invariant: dict, result: CheckResult, status: str = "violated") -> str:
    return describe(status, invariant, result.confidence, result.support, result.total, result.evidence)


# --- baseline files as test items -------------------------------------------------------------------------
def pytest_collect_file(file_path, parent):
    if fnmatch.fnmatch(file_path.name, parent.config.getoption("strata_baseline_glob")):
        return BaselineFile.from_parent(parent, path=file_path)
    return None


class BaselineFile(pytest.File):
    """A `*.strata.json` baseline: one item per invariant, all checked against the source in one pass."""

    def collect(self):
        from .core.invariants import load_baseline
        from .core.invariants.codegen import printable

        self.invariants = load_baseline(self.path)
        for index, inv in enumerate(self.invariants):
            yield BaselineItem.from_parent(self, name=printable(inv.id, keep_newlines=False), invariant=inv, index=index)

    def staleness(self) -> list[StalenessResult]:
        cache = self.config.stash.setdefault(_STALENESS, {})
        if self.path not in cache:
            from .core.invariants import check_staleness

            entries = entries_for(self.config)
            degraded_pp, violated_pp = _thresholds(self.config)
            cache[self.path] = check_staleness(self.invariants, entries, degraded_pp, violated_pp)
        return cache[self.path]


class BaselineItem(pytest.Item):
    def __init__(self, *, invariant: Invariant, index: int, **kwargs):
        super().__init__(**kwargs)
        self.invariant = invariant
        self.index = index

    def runtest(self) -> None:
        from .core.invariants.codegen import printable

        res = self.parent.staleness()[self.index]
        facts = {"id": res.id, "confidence": res.confidence_then}
        message = describe(res.status, facts, res.confidence_now, res.support, res.total, res.evidence)
        if res.status == "missing":
            pytest.skip(f"{res.id!r}: {res.evidence.get('reason', 'field absent or all null')} in this source")
        if res.status == "degraded":
            warnings.warn(StrataDegradedWarning(message))
        if res.status == "violated":
            raise InvariantViolated(f"{printable(res.description)}\n{message}")

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, InvariantViolated):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        return self.path, None, f"strata invariant {self.invariant.id}"
