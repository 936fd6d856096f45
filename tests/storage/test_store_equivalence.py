"""The two stores against a plain-Python reference: any sequence of per-drop replaces, token appends, merges and
overwrites leaves the same rows in the DuckDB file, in the Delta tables and in the reference."""
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.core.storage.store_delta import DeltaStore, delta_storage_options
from pipeline.core.storage.store_duckdb import DuckDBFileStore

KEYS = st.sampled_from(["a", "b", "o'neil", "x/y z"])  # quotes and path characters in partition values
OPS = st.lists(st.one_of(
    st.tuples(st.just("replace"), KEYS, st.lists(st.integers(-5, 5), max_size=4)),
    st.tuples(st.just("append"), st.sampled_from(["t1", "t2", "t3"]), st.lists(st.integers(-5, 5), min_size=1, max_size=3)),
    st.tuples(st.just("merge"), st.lists(KEYS, min_size=1, max_size=3, unique=True), st.integers(0, 9)),
    st.tuples(st.just("overwrite"), st.lists(st.integers(0, 9), max_size=3), st.none()),
), min_size=1, max_size=6)


def apply(store, ref, op):
    kind, a, b = op
    if kind == "replace":
        store.replace("per_drop", pa.table({"drop": pa.array([a] * len(b), pa.string()), "v": pa.array(b, pa.int64())}), {"drop": a})
        ref["per_drop"] = [r for r in ref["per_drop"] if r[0] != a] + [(a, v) for v in b]
    elif kind == "append":
        if store.append("daily", pa.table({"v": pa.array(b, pa.int64())}), token=a) and a not in ref["tokens"]:
            ref["daily"] += [(v,) for v in b]
        ref["tokens"].add(a)
    elif kind == "merge":
        store.merge("state", pa.table({"k": pa.array(a, pa.string()), "n": pa.array([b] * len(a), pa.int64())}), ["k"])
        ref["state"] = {**ref["state"], **{k: b for k in a}}
    else:
        store.overwrite("inv", pa.table({"id": pa.array(a, pa.int64())}))
        ref["inv"] = [(v,) for v in a]


def contents(store):
    def rows(t):
        table = store.scan(t)
        return [] if table is None else sorted(tuple(r.values()) for r in table.to_pylist())
    return {"per_drop": rows("per_drop"), "daily": rows("daily"), "state": dict(rows("state")), "inv": rows("inv")}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_both_stores_match_the_reference(tmp_path_factory, ops):
    root = tmp_path_factory.mktemp("wh")
    delta, ref = DeltaStore(str(root / "delta")), {"per_drop": [], "daily": [], "state": {}, "inv": [], "tokens": set()}
    with DuckDBFileStore(str(root / "w.duckdb")) as duck:
        ref_duck = {k: (set(v) if isinstance(v, set) else (dict(v) if isinstance(v, dict) else list(v))) for k, v in ref.items()}
        for op in ops:
            apply(delta, ref, op)
            apply(duck, ref_duck, op)
        expected = {"per_drop": sorted(ref["per_drop"]), "daily": sorted(ref["daily"]), "state": ref["state"],
                    "inv": sorted(ref["inv"])}
        assert contents(duck) == expected
        assert contents(delta) == expected
        if delta.tables():
            reader = delta.reader()
            assert sorted(reader.sql("SHOW TABLES").fetchall()) == sorted((t,) for t in delta.tables())


def test_delta_options_from_fsspec_options():
    assert delta_storage_options({"key": "k", "secret": "s", "client_kwargs": {"endpoint_url": "http://127.0.0.1:9000"}}) == {
        "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s", "AWS_ENDPOINT_URL": "http://127.0.0.1:9000",
        "AWS_ALLOW_HTTP": "true", "AWS_REGION": "us-east-1"}
    assert delta_storage_options(None) == {}


def test_delta_reader_recreates_the_latest_baselines_view(tmp_path):
    from datetime import datetime, timezone

    store = DeltaStore(str(tmp_path / "wh"))
    old, new = datetime(2026, 1, 1, tzinfo=timezone.utc), datetime(2026, 1, 2, tzinfo=timezone.utc)
    for at, p95 in ((old, 1.0), (new, 2.0)):
        store.append("baselines", pa.table({"computed_at": pa.array([at, at], pa.timestamp("us", tz="UTC")),
                                            "metric": ["latency_ms", "cost"], "p95": [p95, p95 * 10]}))
    con = store.reader()
    assert con.sql("SELECT metric, p95 FROM latest_baselines ORDER BY metric").fetchall() == [("cost", 20.0), ("latency_ms", 2.0)]
