"""What a source resolves to: objects to read, and the errors that name an object and the cause."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class SourceError(Exception):
    """An object that cannot be listed or read; the message names the object and the cause."""


class ObjectTooLarge(SourceError):
    """A compressed object expanding past its limit (see decompress): quarantined as stored, the drop goes on."""


@dataclass(frozen=True)
class SourceObject:
    url: str  # what a person reads in messages: the URL or path as given/resolved
    path: str  # the path inside `fs`
    size: int | None = None
    mtime: float | None = None
    fs: Any = field(default=None, compare=False, repr=False)
    problem: str | None = None  # why the object cannot be read (dangling symlink, loop): it is quarantined by name

    @property
    def name(self) -> str:
        return self.path.rstrip("/").rsplit("/", 1)[-1]
