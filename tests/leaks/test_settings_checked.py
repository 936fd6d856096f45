"""Item 16: settings that contradict themselves or cannot work are refused at load, with an error naming the setting."""
from __future__ import annotations

import pytest

from pipeline.core.config import ConfigError, load_config
from pipeline.core.settings import DEFAULTS, apply_defaults
from resources.alerts import alert_resources

GOOD = "invariants:\n  degraded_pp: 10\n  violated_pp: 30\n"


def _load(tmp_path, text: str):
    path = tmp_path / "strata.yml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


@pytest.mark.parametrize("text, named", [
    ("invariants:\n  degraded_pp: 40\n  violated_pp: 30\n", "degraded_pp"),
    ("drift:\n  verdict:\n    monitor: 0.5\n    review: 0.1\n", "monitor <= review <= block"),
    ("drift:\n  verdict:\n    review: 0.4\n    block: 0.2\n", "drift.verdict"),
    ("drift:\n  verdict:\n    dimension_review: 0.9\n    dimension_block: 0.5\n", "dimension_review"),
    ("invariants:\n  window_days: 1e308\n", "invariants.window_days"),
    ("invariants:\n  staleness_window_days: 1e9\n", "invariants.staleness_window_days"),
    ("drift:\n  window_days: .inf\n", "drift.window_days"),
    ("invariants:\n  window_days: 2\n  window_days: 3\n", "duplicate key 'window_days'"),
    ("currency: USD\ncurrency: EUR\n", "duplicate key 'currency'"),
    ("roles:\n  latency_ms:\n    path: lat\n    scale: .nan\n", "roles.latency_ms.scale"),
    ("roles:\n  latency_ms:\n    - path: lat\n      scale: .inf\n", "roles.latency_ms.0.scale"),
    ("prices:\n  m:\n    input_per_1m: .nan\n    output_per_1m: 1\n", "prices.m.input_per_1m"),
])
def test_bad_config_is_refused_naming_the_setting(tmp_path, text, named):
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, text)
    assert named in str(err.value)
    assert "Traceback" not in str(err.value)


def test_good_config_still_loads(tmp_path):
    cfg = _load(tmp_path, GOOD + "drift:\n  verdict:\n    monitor: 0.1\n    review: 0.1\n    block: 0.2\n")
    assert (cfg.invariants.degraded_pp, cfg.invariants.violated_pp) == (10, 30)
    assert cfg.drift.verdict.review == 0.1  # equal thresholds are allowed (a level is skipped, not reordered)


def _env(**over) -> dict:
    env = {name: default for name, (default, _) in DEFAULTS.items()}
    env.update(over)
    return env


@pytest.mark.parametrize("name, value", [
    ("STRATA_ALERT_DEDUP_MINUTES", "inf"), ("STRATA_ALERT_DEDUP_MINUTES", "nan"),
    ("STRATA_ALERT_DEDUP_MINUTES", "1e300"), ("STRATA_ALERT_RENOTIFY_HOURS", "-inf"),
    ("STRATA_ALERT_RENOTIFY_HOURS", "1e20"), ("STRATA_MIN_DROP_AGE_SECONDS", "NaN"),
    ("STRATA_MAX_DROPS_PER_TICK", "10000000000"), ("STRATA_ALERT_MAX_ATTEMPTS", "٣"),
])
def test_bad_environment_is_refused_at_load(name, value):
    with pytest.raises(ValueError) as err:
        apply_defaults(_env(**{name: value}))
    assert str(err.value).startswith(f"{name}=")
    with pytest.raises(ValueError, match=name) if name.split("_")[1] == "ALERT" and "ATTEMPTS" not in name \
            else _nothing():
        alert_resources(_env(**{name: value}))


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_good_environment_loads():
    env = _env(STRATA_ALERT_DEDUP_MINUTES="90.5", STRATA_ALERT_RENOTIFY_HOURS="12")
    apply_defaults(env)
    settings = alert_resources(env)["alert_settings"]
    assert settings.dedup_window_minutes == 90.5 and settings.window().total_seconds() == 90.5 * 60
