"""Items 9 and 10: every drop name resolves (`__` in names, names at the file-name limit; local and S3) and a late
file whose mtime is older than the sensor's cursor is still handed out, once."""
from __future__ import annotations

import json
import os
import shutil
import time

import hypothesis.strategies as st
import pytest
import s3fs
from hypothesis import given, settings
from moto.server import ThreadedMotoServer

from pipeline.core.storage.drops import MAX_KEY_ENCODED, Drop, DropCursor, drop_objects, list_drops, select_new
from pipeline.core.storage.lake import drop_dir

CREDS = {"key": "testing", "secret": "testing"}
LONG = "x" * 230 + "é" * 5 + ".jsonl"  # 240 characters, 245 bytes: a legal file name, 3x that percent-encoded


def _write(path, rows=3):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps({"i": i}) + "\n" for i in range(rows)))


def _lake_name_fits(tmp_path, key):
    folder = drop_dir(str(tmp_path / "lake"), "entries", key)
    os.makedirs(folder)  # raises "File name too long" if a key makes the lake folder name too long
    return os.path.isdir(folder)


def test_local_names_with_double_underscores_and_long_names_resolve(tmp_path):
    drops = tmp_path / "drops"
    _write(drops / "billing__prod.jsonl", 2)
    _write(drops / "team__a" / "part__1.jsonl", 4)
    _write(drops / LONG, 5)
    found = {d.key: d for d in list_drops(str(drops))}
    assert set(found) >= {"billing__prod.jsonl", "team__a"} and len(found) == 3
    long_key = next(k for k in found if k.startswith("xxx"))
    assert len(long_key) < len(LONG) and "~" in long_key
    sizes = {k: sum(o.size for o in drop_objects(str(drops), k)) for k in found}
    assert sizes == {k: d.size for k, d in found.items()}
    assert [o.name for o in drop_objects(str(drops), "team__a")] == ["part__1.jsonl"]
    for key in found:
        assert _lake_name_fits(tmp_path, key)
    with pytest.raises(FileNotFoundError, match="no longer under"):
        drop_objects(str(drops), "gone.jsonl")


def test_nested_keys_that_would_collide_are_told_apart(tmp_path):
    drops = tmp_path / "drops"
    _write(drops / "a__b" / "c" / "1.jsonl", 1)
    _write(drops / "a" / "b__c" / "2.jsonl", 2)
    found = list_drops(str(drops), depth=2)
    assert len({d.key for d in found}) == 2
    for d in found:
        objs = drop_objects(str(drops), d.key, depth=2)
        assert [o.size for o in objs] == [d.size]


@pytest.fixture(scope="module")
def s3():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    fs = s3fs.S3FileSystem(**CREDS, client_kwargs={"endpoint_url": endpoint}, skip_instance_cache=True)
    bucket = f"leaks-{time.time_ns()}"
    fs.mkdir(bucket)
    yield fs, bucket, {**CREDS, "client_kwargs": {"endpoint_url": endpoint}}
    server.stop()


def test_s3_names_with_double_underscores_and_long_names_resolve(s3, tmp_path):
    fs, bucket, opts = s3
    for name, n in (("billing__prod.jsonl", 2), (LONG, 5), ("team__a/part__1.jsonl", 4)):
        fs.pipe(f"{bucket}/drops/{name}", "".join(json.dumps({"i": i}) + "\n" for i in range(n)).encode())
    url = f"s3://{bucket}/drops"
    found = {d.key: d for d in list_drops(url, opts)}
    assert len(found) == 3 and "billing__prod.jsonl" in found and "team__a" in found
    for key, d in found.items():
        objs = drop_objects(url, key, opts)
        assert sum(o.size for o in objs) == d.size > 0
        assert _lake_name_fits(tmp_path, key)


def test_s3_copy_keeping_an_old_mtime_is_still_ingested(s3):
    """An object copied in later whose LastModified is old (here: the cursor's mark moved past it) is handed out."""
    fs, bucket, opts = s3
    url = f"s3://{bucket}/late"
    fs.pipe(f"{bucket}/late/first.jsonl", b'{"i": 1}\n')
    picked, cursor = select_new(list_drops(url, opts), DropCursor(), 10, now=time.time() + 60, known=set())
    assert [d.key for d in picked] == ["first.jsonl"]
    cursor = DropCursor(cursor.hwm + 3600, cursor.seen)  # a skewed writer pushed the mark an hour ahead
    fs.pipe(f"{bucket}/late/copied.jsonl", b'{"i": 2}\n')
    picked, cursor = select_new(list_drops(url, opts), cursor, 10, now=time.time() + 60, known={"first.jsonl"})
    assert [d.key for d in picked] == ["copied.jsonl"]
    again, _ = select_new(list_drops(url, opts), cursor, 10, now=time.time() + 60, known={"first.jsonl", "copied.jsonl"})
    assert again == []


def test_cp_p_and_rsync_t_files_older_than_the_cursor_are_ingested(tmp_path):
    src, drops = tmp_path / "src", tmp_path / "drops"
    _write(drops / "today.jsonl")
    os.utime(drops / "today.jsonl", (2_000_000, 2_000_000))
    picked, cursor = select_new(list_drops(str(drops)), DropCursor(), 10, now=3e6, known=set())
    assert [d.key for d in picked] == ["today.jsonl"]
    known = {d.key for d in picked}
    _write(src / "archived.jsonl")
    os.utime(src / "archived.jsonl", (1_000_000, 1_000_000))  # months older than the mark
    shutil.copy2(src / "archived.jsonl", drops / "archived.jsonl")  # what `cp -p` / `rsync -t` do: mtime kept
    _write(src / "yesterday.jsonl")
    os.utime(src / "yesterday.jsonl", (1_990_000, 1_990_000))  # within the remembered window
    shutil.copy2(src / "yesterday.jsonl", drops / "yesterday.jsonl")
    picked, cursor = select_new(list_drops(str(drops)), cursor, 10, now=3e6, known=known)
    assert sorted(d.key for d in picked) == ["archived.jsonl", "yesterday.jsonl"]
    assert cursor.hwm == 2_000_000  # the mark never goes back
    known |= {d.key for d in picked}
    assert select_new(list_drops(str(drops)), cursor, 10, now=3e6, known=known)[0] == []
    # a drop rewritten in place (new size, same old mtime) is handed out again
    _write(drops / "yesterday.jsonl", rows=9)
    os.utime(drops / "yesterday.jsonl", (1_990_000, 1_990_000))
    assert [d.key for d in select_new(list_drops(str(drops)), cursor, 10, now=3e6, known=known)[0]] == ["yesterday.jsonl"]


def test_the_cursor_stays_bounded():
    drops = [Drop(f"k{i:05d}", f"/x/{i}", float(i), 1, 1) for i in range(2_000)]
    cursor = DropCursor()
    known: set = set()
    for _ in range(20):
        picked, cursor = select_new(drops, cursor, 500, now=1e9, known=known, window_s=100.0, max_seen=300)
        known |= {d.key for d in picked}
    assert len(known) == 2_000
    assert len(cursor.seen) <= 300 and len(cursor.dump()) < 20_000


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(-50, 50), st.integers(0, 3)), min_size=1, max_size=25), st.integers(1, 4))
def test_every_drop_once_even_when_mtimes_go_back(arrivals, cap):
    """Reference: a drop is handed out exactly once, whatever mtime it arrives with (late copies included)."""
    handed, cursor, visible, known = [], DropCursor(), [], set()
    t = 1000
    for i, (dt, batch) in enumerate(arrivals):
        t += max(dt, 0)
        mtime = t + min(dt, 0) * 10  # a negative step: the file arrives with an mtime far in the past
        visible += [Drop(f"k{i}-{j}", "/x", float(mtime), 1, 1) for j in range(batch)]
        for _ in range(2):
            got, cursor = select_new(visible, cursor, cap, now=1e9, known=known, window_s=30.0, max_seen=8)
            handed += [x.key for x in got]
            known |= {x.key for x in got}
    while True:
        got, cursor = select_new(visible, cursor, cap, now=1e9, known=known, window_s=30.0, max_seen=8)
        if not got:
            break
        handed += [x.key for x in got]
        known |= {x.key for x in got}
    assert sorted(handed) == sorted(x.key for x in visible)
    assert len(handed) == len(set(handed))


def test_key_length_limit_is_what_the_lake_can_hold():
    assert MAX_KEY_ENCODED + len("drop=") < 255
