"""Keys no role path can name (the empty key, a literal "*") never break inference or normalization: the records
are kept and those fields stay in `attributes` as they were."""
import json

from pipeline.core.ingest import ingest


def test_empty_and_star_keys_are_kept_in_attributes(tmp_path):
    rows = [{"prompt": "hi", "usage": {"prompt_tokens": 3, "completion_tokens": 1}, "extra": {"*": None}},
            {"prompt": "yo", "extra": {"": {"": 0}, "ok": 1}}, {}]
    path = tmp_path / "x.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    table, result = ingest(str(path))
    assert (table.num_rows, result.rows_rejected) == (3, 0)
    attrs = [json.loads(a) for a in table.column("attributes").to_pylist()]
    assert attrs[0]["extra"] == {"*": None}
    assert attrs[1]["extra"][""] == {"": 0}


def test_star_key_appearing_mid_stream_is_not_located_as_an_added_field(tmp_path):
    # the schema-evolution probe sees "*" and "" switch on halfway; locating them by JSON path used to crash the drop
    rows = [{"prompt": f"q{i}", "latency_ms": i} for i in range(300)]
    rows += [{"prompt": f"q{i}", "latency_ms": i, "*": i, "": {"*": 1}, "new_field": "x"} for i in range(300, 600)]
    path = tmp_path / "x.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    table, result = ingest(str(path))
    assert (table.num_rows, result.rows_rejected) == (600, 0)
    assert json.loads(table.column("attributes")[599].as_py())["*"] == 599
