"""Baseline files (`*.strata.json`): a versioned JSON document holding mined invariants, local path or fsspec URL."""
from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path

from .pii_mask import mask_value
from ..storage.atomic_file import write_text_atomic
from .model import Invariant, plain

FORMAT = "strata.invariants"
FORMAT_VERSION = 1
SUFFIX = ".strata.json"


def baseline_document(invariants: list[Invariant], metadata: dict | None = None) -> dict:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "metadata": plain(metadata or {}),
        "invariants": [mask_value(inv.to_dict()) for inv in invariants],  # a baseline is read by people: PII masked
    }


def save_baseline(invariants: list[Invariant], path: str | os.PathLike, metadata: dict | None = None,
                  storage_options: dict | None = None) -> str:
    """Write a baseline; a path without the `.strata.json` suffix gets it. Local writes are atomic."""
    target = str(path)
    if not target.endswith(SUFFIX):
        target += SUFFIX
    text = json.dumps(baseline_document(invariants, metadata), indent=1, sort_keys=False, allow_nan=False)
    if "://" in target and not target.startswith("file://"):
        write_text_atomic(target, text, storage_options)
        return target
    local = str(Path(target.removeprefix("file://")))
    write_text_atomic(local, text)
    return local


def read_baseline_document(path: str | os.PathLike, storage_options: dict | None = None) -> dict:
    target = str(path)
    if "://" in target and not target.startswith("file://"):
        import fsspec

        with fsspec.open(target, "r", encoding="utf-8", **(storage_options or {})) as fh:
            doc = json.load(fh)
    else:
        doc = json.loads(Path(target.removeprefix("file://")).read_text(encoding="utf-8"))
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(f"{target}: not a Strata baseline (expected format {FORMAT!r})")
    version = doc.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION or version < 1:
        raise ValueError(f"{target}: baseline format_version {version!r} is not supported (this Strata reads up to {FORMAT_VERSION})")
    return doc


def load_baseline(path: str | os.PathLike, storage_options: dict | None = None) -> list[Invariant]:
    return [Invariant.from_dict(d) for d in read_baseline_document(path, storage_options)["invariants"]]
