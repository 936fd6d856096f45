"""strata.yml validation errors name the setting; role overrides and the price table work."""
import pyarrow as pa
import pytest

from pipeline.core.config import ConfigError, load_config
from pipeline.core.ingest.pricing import PriceTable, fill_costs
from pipeline.core.settings import apply_defaults


def test_valid_config(tmp_path):
    p = tmp_path / "strata.yml"
    p.write_text(
        "roles:\n  input: payload.question\n  latency_ms: {path: took_s, scale: 1000}\n"
        "prices:\n  my-model: {input_per_1m: 1.0, output_per_1m: 2.0}\nsampling: {method: stratified, max_rows: 100}\n"
    )
    cfg = load_config(p)
    m = cfg.role_overrides()
    assert m.roles["input"][0].path == "$.payload.question"
    assert m.roles["latency_ms"][0].scale == 1000
    assert cfg.price_table().lookup("my-model-v2") == (1.0, 2.0)
    assert cfg.sampling.method == "stratified"


@pytest.mark.parametrize(
    "text,needle",
    [
        ("sampling: {method: fancy}", "sampling.method"),
        ("roles: {prompt_text: x}", "unknown role(s) 'prompt_text'"),
        ("prices: {m: {input_per_1m: -1, output_per_1m: 1}}", "prices.m.input_per_1m"),
        ("samplng: {}", "samplng"),
        ("- a\n- b", "expected a mapping"),
        ("a: [", "not valid YAML"),
    ],
)
def test_invalid_config_names_file_and_setting(tmp_path, text, needle):
    p = tmp_path / "strata.yml"
    p.write_text(text)
    with pytest.raises(ConfigError) as exc:
        load_config(p)
    assert str(p) in str(exc.value) and needle in str(exc.value)


def test_env_settings_are_validated_by_name():
    env = {"STRATA_DROP_DEPTH": "two"}
    with pytest.raises(ValueError, match="STRATA_DROP_DEPTH='two'"):
        apply_defaults(env)
    env = {"STRATA_STORAGE_OPTIONS": "{not json"}
    with pytest.raises(ValueError, match="STRATA_STORAGE_OPTIONS: not valid JSON"):
        apply_defaults(env)
    for name, bad, expected in (("STRATA_ALERT_DEDUP_MINUTES", "-5", "a number >= 0"),
                                ("STRATA_ALERT_DIGEST_WARNINGS", "sometimes", "true or false"),
                                ("STRATA_ALERT_MAX_ATTEMPTS", "0", "a positive whole number")):
        with pytest.raises(ValueError, match=f"{name}='{bad}': expected {expected}"):
            apply_defaults({name: bad})


def test_alert_settings_come_from_the_environment():
    from resources.alerts import alert_resources

    env = {"STRATA_ALERT_DEDUP_MINUTES": "15", "STRATA_ALERT_RENOTIFY_HOURS": "0.5",
           "STRATA_ALERT_DIGEST_WARNINGS": "No", "STRATA_ALERT_MAX_ATTEMPTS": "5"}
    apply_defaults(env)
    settings = alert_resources(env)["alert_settings"]
    assert (settings.dedup_window_minutes, settings.renotify_hours, settings.digest_warnings,
            settings.max_attempts) == (15.0, 0.5, False, 5)
    defaults = alert_resources({})["alert_settings"]
    assert (defaults.dedup_window_minutes, defaults.renotify_hours, defaults.digest_warnings,
            defaults.max_attempts) == (60.0, 4.0, True, 3)


def test_costs_filled_only_where_missing_and_model_known():
    t = pa.table({
        "model": ["gpt-4o-mini-2024-07-18", "openai/gpt-4o", "mystery", "gpt-4o", None],
        "prompt_tokens": pa.array([1_000_000, 1000, 5, None, 10], pa.int64()),
        "completion_tokens": pa.array([1_000_000, None, 5, None, 10], pa.int64()),
        "cost_usd": pa.array([None, None, None, None, None], pa.float64()),
    })
    out, n = fill_costs(t, PriceTable.default())
    assert n == 2
    assert out.column("cost_usd").to_pylist() == [pytest.approx(0.75), pytest.approx(0.0025), None, None, None]
    t2 = t.set_column(3, "cost_usd", pa.array([9.0, None, None, None, None]))
    assert fill_costs(t2, PriceTable.default())[0].column("cost_usd")[0].as_py() == 9.0
