"""Sources: paths, globs, directories, file:// URLs, stdin; compression by content; errors that name the object."""
import bz2
import gzip
import io
import sys

import pytest
import zstandard

from pipeline.core.ingest.sources import SourceError, decompress, read_raw, resolve_source

PAYLOAD = b'{"a": 1}\n{"a": 2}\n'


def test_directory_is_walked_sorted_and_hidden_files_skipped(tmp_path):
    (tmp_path / "b.jsonl").write_bytes(PAYLOAD)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.csv").write_text("x\n1\n")
    (tmp_path / ".hidden").write_text("no")
    objs = resolve_source(str(tmp_path))
    assert [o.name for o in objs] == ["b.jsonl", "a.csv"] or sorted(o.name for o in objs) == ["a.csv", "b.jsonl"]
    assert all(o.size and o.mtime for o in objs)
    assert ".hidden" not in {o.name for o in objs}


def test_glob_and_file_url(tmp_path):
    for n in ("x1.jsonl", "x2.jsonl", "y.csv"):
        (tmp_path / n).write_bytes(PAYLOAD)
    assert [o.name for o in resolve_source(str(tmp_path / "x*.jsonl"))] == ["x1.jsonl", "x2.jsonl"]
    objs = resolve_source(f"file://{tmp_path}/y.csv")
    assert len(objs) == 1 and read_raw(objs[0]) == PAYLOAD


def test_missing_source_names_it(tmp_path):
    with pytest.raises(SourceError, match="nope.jsonl: no such object"):
        resolve_source(str(tmp_path / "nope.jsonl"))


def test_stdin(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(PAYLOAD)))
    (obj,) = resolve_source("-")
    assert read_raw(obj) == PAYLOAD


@pytest.mark.parametrize(
    "compress,kind",
    [(gzip.compress, "gzip"), (bz2.compress, "bz2"), (lambda b: zstandard.ZstdCompressor().compress(b), "zstd")],
)
def test_decompression_by_content_not_extension(compress, kind):
    data, found = decompress(compress(PAYLOAD), "logs.txt")  # misleading name on purpose
    assert (data, found) == (PAYLOAD, kind)


def test_concatenated_gzip_members():
    data, _ = decompress(gzip.compress(b"a\n") + gzip.compress(b"b\n"), "x.gz")
    assert data == b"a\nb\n"


@pytest.mark.parametrize("compress", [gzip.compress, bz2.compress, lambda b: zstandard.ZstdCompressor().compress(b)])
def test_truncated_stream_fails_naming_object(compress):
    blob = compress(PAYLOAD * 200)
    with pytest.raises(SourceError, match=r"s3://b/drop/x\.gz: .* truncated or corrupt"):
        decompress(blob[: len(blob) // 2], "s3://b/drop/x.gz")


def test_plain_bytes_pass_through():
    assert decompress(PAYLOAD, "x") == (PAYLOAD, None)
