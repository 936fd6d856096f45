"""Ingest: sources, sniffing, readers, vendor adapters, schema inference and normalization into the canonical entry.

`ingest` reads a source (path, glob, directory, fsspec URL) into one Arrow table; `iter_entries` streams it in chunks.
They are loaded on first use, so importing a submodule (e.g. `ingest.mapping` from the settings) stays light.
"""
__all__ = ["IngestResult", "SourceReport", "ingest", "iter_entries"]


def __getattr__(name: str):
    if name in __all__:
        from . import engine

        return getattr(engine, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
