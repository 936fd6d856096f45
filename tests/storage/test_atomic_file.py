"""put_atomic: a reader running beside the writer sees an old or a new whole file, never a torn one; a failed write
leaves the target as it was and no temporary file behind; object stores get one PUT."""
import json
import threading

import fsspec
import pytest

from pipeline.core.storage.atomic_file import put_atomic, write_text_atomic


def test_a_concurrent_reader_never_sees_a_torn_file(tmp_path):
    path = str(tmp_path / "state" / "drop=a.json")
    docs = [json.dumps({"n": n, "pad": "x" * (200_000 + 7919 * n)}).encode() for n in range(6)]
    put_atomic(fsspec.filesystem("file"), path, docs[0])
    stop, seen, torn = threading.Event(), set(), []

    def read():
        while not stop.is_set():
            with open(path, "rb") as f:
                data = f.read()
            try:
                seen.add(json.loads(data)["n"])
            except ValueError:
                torn.append(len(data))

    reader = threading.Thread(target=read)
    reader.start()
    fs = fsspec.filesystem("file")
    for i in range(120):
        put_atomic(fs, path, docs[i % len(docs)])
    stop.set()
    reader.join()
    assert torn == [] and len(seen) >= 2
    assert [p.name for p in (tmp_path / "state").iterdir()] == ["drop=a.json"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "x.json"
    write_text_atomic(str(path), '{"old": 1}')

    def boom(fd):
        raise OSError("disk full")

    monkeypatch.setattr("os.fsync", boom)
    with pytest.raises(OSError, match="disk full"):
        write_text_atomic(str(path), '{"new": 2}')
    assert path.read_text() == '{"old": 1}' and [p.name for p in tmp_path.iterdir()] == ["x.json"]


def test_an_object_store_gets_the_bytes_in_one_put():
    fs = fsspec.filesystem("memory")
    calls = []
    real = fs.pipe_file
    fs.pipe_file = lambda p, d, **kw: (calls.append(p), real(p, d, **kw))
    put_atomic(fs, "/bucket/state/drop=b.json", b'{"n": 1}')
    assert calls == ["/bucket/state/drop=b.json"] and fs.cat_file("/bucket/state/drop=b.json") == b'{"n": 1}'
    fs.rm("/bucket", recursive=True)
