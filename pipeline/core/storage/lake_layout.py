"""Where a drop's current files are. Two layouts live side by side in one lake:

- versioned (object stores): each write goes to a fresh folder `drop=<key>/v-<id>/` (entries, and the same id under
  `quarantine/drop=<key>/`), then one small object, `log_entries/drop=<key>/_current.json`, is written in one PUT
  and names the version and its files. Readers follow it, so they see the previous drop or the new one, never half;
  a writer that dies before the PUT leaves an unreferenced folder that the next write of the drop deletes.
- flat (local lakes, and drops written before versions existed): the files sit directly in `drop=<key>/` (locally
  swapped in by rename). A drop without a manifest is read this way, ignoring any `v-*` folder (an unpublished write).
"""
from __future__ import annotations

import json
import urllib.parse

from .atomic_file import put_atomic

MANIFEST = "_current.json"
VERSION_PREFIX = "v-"
ENTRIES = "log_entries"
QUARANTINE = "quarantine"


def drop_dir(lake_url: str, dataset: str, drop: str) -> str:
    """`{lake}/{dataset}/drop=<key>`; the key is percent-encoded so any partition key is a safe folder name."""
    return f"{lake_url.rstrip('/')}/{dataset}/drop={urllib.parse.quote(drop, safe='')}"


def read_manifest(fs, lake_url: str, drop: str) -> dict | None:
    """The drop's manifest (one GET, no listing: never a stale cache), or None for a flat or absent drop."""
    path = f"{fs._strip_protocol(drop_dir(lake_url, ENTRIES, drop))}/{MANIFEST}"
    try:
        return json.loads(fs.cat_file(path))
    except FileNotFoundError:
        return None


def write_manifest(fs, lake_url: str, drop: str, manifest: dict) -> None:
    """Publish: one PUT on an object store; locally a temporary file renamed over the manifest (also atomic)."""
    path = f"{fs._strip_protocol(drop_dir(lake_url, ENTRIES, drop))}/{MANIFEST}"
    put_atomic(fs, path, json.dumps(manifest, sort_keys=True).encode())


def current_files(fs, lake_url: str, dataset: str, drop: str, manifest: dict | None = None,
                  suffix: str = ".parquet") -> list[str]:
    """The drop's current files of `dataset` ending in `suffix` (filesystem paths, sorted)."""
    d = fs._strip_protocol(drop_dir(lake_url, dataset, drop)).rstrip("/")
    m = manifest if manifest is not None else read_manifest(fs, lake_url, drop)
    if m is not None:
        return sorted(f"{d}/{m['version']}/{name}" for name in m["files"].get(dataset, ()) if name.endswith(suffix))
    if not fs.exists(d):
        return []
    return sorted(p for p in fs.find(d) if p.endswith(suffix) and not p[len(d) + 1:].startswith(VERSION_PREFIX))


def published_drops(fs, lake_url: str) -> list[str]:
    """Drop keys with a manifest or flat files (a folder holding only an unpublished version is not a drop). One
    recursive listing (on S3 one paginated LIST, however many drops)."""
    base = f"{fs._strip_protocol(lake_url).rstrip('/')}/{ENTRIES}"
    if not fs.exists(base):
        return []
    keys = set()
    for path in fs.find(base):
        parts = path[len(base) + 1:].split("/")
        if len(parts) >= 2 and parts[0].startswith("drop=") and not parts[1].startswith(VERSION_PREFIX):
            keys.add(urllib.parse.unquote(parts[0][len("drop="):]))
    return sorted(keys)


def prune(fs, lake_url: str, drop: str, keep: str) -> int:
    """After the manifest names `keep`: delete everything else in the drop's folders (the superseded version, flat
    files of the old layout, unpublished versions of crashed writers). Returns the entries removed."""
    removed = 0
    for dataset in (ENTRIES, QUARANTINE):
        d = fs._strip_protocol(drop_dir(lake_url, dataset, drop)).rstrip("/")
        if not fs.exists(d):
            continue
        for child in fs.ls(d, detail=False):
            name = child.rstrip("/").rsplit("/", 1)[-1]
            if name in (keep, MANIFEST):
                continue
            fs.rm(child, recursive=True)
            removed += 1
    return removed
