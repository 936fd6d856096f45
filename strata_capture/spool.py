"""The per-process spool segment: each finished span is one line appended with one `os.write` (no in-memory queue).

A segment is `<time_ns>-<pid>-<seq>.open` while its process writes it (holding an exclusive `flock`, which the kernel
releases however the process dies) and is renamed `.seg` when sealed by size or age. Its first line is the resource
header. A publisher treats an `.open` segment it can lock as sealed: its writer is gone.
"""
from __future__ import annotations

import errno
import fcntl
import json
import os
import threading
import time

OPEN, SEALED = ".open", ".seg"


def try_lock(path: str) -> int | None:
    """An fd holding an exclusive flock on `path`, or None when another open file description holds it."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


class SpoolWriter:
    """Appends span lines to this process's open segment; rotates by size/age; bounded by `max_spool_bytes`."""

    def __init__(self, directory: str, resource: dict, segment_bytes: int, segment_age_s: float,
                 max_spool_bytes: int, on_drop) -> None:
        self.directory = directory
        self.resource = resource
        self.segment_bytes = segment_bytes
        self.segment_age_s = segment_age_s
        self.max_spool_bytes = max_spool_bytes
        self.on_drop = on_drop  # called with (reason) for each span not written
        self.other_bytes = 0  # bytes of the rest of the spool, refreshed by the publisher's scans
        self._reset_state()

    def _reset_state(self) -> None:
        self.lock = threading.Lock()
        self.fd: int | None = None
        self.path: str | None = None
        self.bytes = 0
        self.opened_at = 0.0
        self.seq = 0
        self.pid = os.getpid()
        self._dir_ready = False

    # ---- fork: the child never writes to (or unlocks) its parent's segment
    def before_fork(self) -> None:
        self.lock.acquire()

    def after_fork_parent(self) -> None:
        self.lock.release()

    def after_fork_child(self) -> None:
        fd = self.fd
        self._reset_state()
        if fd is not None:
            try:
                os.close(fd)  # closing a duplicate keeps the parent's flock
            except OSError:
                pass

    def _open(self) -> None:
        if not self._dir_ready:
            os.makedirs(self.directory, mode=0o700, exist_ok=True)
            self._dir_ready = True
        self.seq += 1
        name = f"{time.time_ns():020d}-{self.pid}-{self.seq:06d}"
        path = os.path.join(self.directory, name + OPEN)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        header = (json.dumps({"resource": self.resource, "pid": self.pid}, separators=(",", ":")) + "\n").encode()
        os.write(fd, header)
        self.fd, self.path, self.bytes, self.opened_at = fd, path, len(header), time.monotonic()

    def _seal_locked(self) -> None:
        if self.fd is None:
            return
        path, fd = self.path, self.fd
        self.fd, self.path, self.bytes = None, None, 0
        try:
            os.rename(path, path[: -len(OPEN)] + SEALED)
        except OSError:
            pass  # a publisher may already have sealed it; the data is on disk either way
        os.close(fd)

    def append(self, data: bytes) -> bool:
        """Write one span line; False (and counted) when the spool is full or the disk refuses."""
        with self.lock:
            try:
                if self.fd is None:
                    self._open()
                if self.other_bytes + self.bytes + len(data) > self.max_spool_bytes:
                    self.on_drop("spool_full")
                    return False
                n = os.write(self.fd, data)
            except OSError as exc:
                self.on_drop("disk_full" if exc.errno == errno.ENOSPC else "write_error")
                self._seal_quietly()
                return False
            self.bytes += n
            if n != len(data):  # short write (disk full): the torn line is skipped by the publisher
                self.on_drop("disk_full")
                self._seal_quietly()
                return False
            if self.bytes >= self.segment_bytes:
                self._seal_locked()
            return True

    def _seal_quietly(self) -> None:
        try:
            self._seal_locked()
        except OSError:
            self.fd = None

    def seal(self, only_if_older_than: float | None = None) -> None:
        """Seal the open segment (all of it, or only once it is older than the given age in seconds)."""
        with self.lock:
            if self.fd is None or self.pid != os.getpid():
                return
            if only_if_older_than is not None and time.monotonic() - self.opened_at < only_if_older_than:
                return
            self._seal_quietly()
