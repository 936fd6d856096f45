"""Drop listing and the high-water-mark cursor: every drop exactly once, ties kept, caps respected, young drops wait."""
import os

import hypothesis.strategies as st
from hypothesis import given, settings

from pipeline.core.storage.drops import Drop, DropCursor, drop_objects, list_drops, select_new


def d(key, mtime):
    return Drop(key, f"/x/{key}", mtime, 1, 1)


def test_files_and_folders_are_drops_with_folder_mtime_the_newest_file(tmp_path):
    (tmp_path / "a.jsonl").write_text("{}\n")
    os.utime(tmp_path / "a.jsonl", (100, 100))
    (tmp_path / "batch").mkdir()
    for name, t in (("1.jsonl", 200), ("2.csv", 300)):
        (tmp_path / "batch" / name).write_text("x\n")
        os.utime(tmp_path / "batch" / name, (t, t))
    (tmp_path / "_staging").mkdir()
    (tmp_path / "_staging" / "tmp.jsonl").write_text("{}")
    drops = list_drops(str(tmp_path))
    assert [(x.key, x.mtime, x.files) for x in drops] == [("a.jsonl", 100, 1), ("batch", 300, 2)]
    assert sorted(o.name for o in drop_objects(str(tmp_path), "batch")) == ["1.jsonl", "2.csv"]


def test_missing_prefix_lists_nothing(tmp_path):
    assert list_drops(str(tmp_path / "not-yet")) == []


def test_cap_and_ties():
    drops = [d("a", 10), d("b", 10), d("c", 10), d("e", 20)]
    got, cur = select_new(drops, DropCursor(), max_per_tick=2, now=1e9)
    assert [x.key for x in got] == ["a", "b"] and cur.hwm == 10 and set(cur.seen) == {"a", "b"}
    got, cur = select_new(drops, cur, 2, now=1e9)
    assert [x.key for x in got] == ["c", "e"]
    got, cur2 = select_new(drops, cur, 2, now=1e9)
    assert got == [] and cur2 == cur


def test_young_drops_wait_and_block_the_watermark():
    drops = [d("old", 10), d("young", 95), d("older-but-after", 96)]
    got, cur = select_new(drops, DropCursor(), 10, min_age_s=10, now=100)
    assert [x.key for x in got] == ["old"] and cur.hwm == 10


def test_cursor_round_trip():
    c = DropCursor(12.5, {"b": (12.5, 3), "a": (11.0, None)})
    assert DropCursor.parse(c.dump()) == c
    assert DropCursor.parse('{"hwm": 12.5, "keys_at_hwm": ["a"]}') == DropCursor(12.5, {"a": (12.5, None)})
    assert DropCursor.parse(None) == DropCursor()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 3)), min_size=1, max_size=30), st.integers(1, 4))
def test_every_drop_is_requested_exactly_once_as_drops_arrive(arrivals, cap):
    """Drops appear over several ticks (mtimes never go back in time for new files); each is picked exactly once."""
    seen, cursor, visible = [], DropCursor(), []
    t = 0
    for i, (dt, batch) in enumerate(arrivals):
        t += dt
        visible += [d(f"k{i}-{j}", t) for j in range(batch)]
        for _ in range(3):
            got, cursor = select_new(visible, cursor, cap, now=1e9)
            seen += [x.key for x in got]
    while True:
        got, cursor = select_new(visible, cursor, cap, now=1e9)
        if not got:
            break
        seen += [x.key for x in got]
    assert sorted(seen) == sorted(x.key for x in visible)
    assert len(seen) == len(set(seen))
