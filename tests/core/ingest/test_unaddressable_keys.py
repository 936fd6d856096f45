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
