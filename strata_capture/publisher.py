"""Publish rounds over a spool directory: seal dead writers' segments, convert sealed segments to gzip OTLP/JSON
(one document per complete trace), stage them in `outbox/`, then upload each and delete it once verified.

One round at a time across processes (`flock` on `.publish.lock`). Conversion is committed with a journal, so a
publisher killed at any point neither loses nor duplicates spans: before `journal.json` exists nothing changed;
after it, the next round finishes the renames and deletions it lists. Spans of a trace whose root has not finished
wait in `carry.jsonl`, so a trace lands in one document; they are published anyway after `orphan_timeout_s`, when
all their writers are gone at a final flush, or when forced.
"""
from __future__ import annotations

import fcntl
import gzip
import json
import os
import time

from .config import safe_name
from .encode import make_dumps
from .otlp import DocumentText, hour_of
from .spool import OPEN, SEALED, try_lock

CARRY, JOURNAL, LOCK, OUTBOX = "carry.jsonl", "journal.json", ".publish.lock", "outbox"
_DUMPS = make_dumps(str)  # the prebuilt C encoder (documents hold only JSON values)
_LOADS = json.JSONDecoder().decode  # what json.loads runs, without its per-call type and encoding checks
MAX_ROUND_BYTES = 2 << 20  # spool bytes converted per batch (bounds the publisher's memory)


class RoundReport:
    """What one round did."""

    def __init__(self) -> None:
        self.spans_staged = self.objects_published = self.spans_published = 0
        self.pending_objects = self.pending_segments = self.torn_lines = 0
        self.errors: list[str] = []
        self.locked_out = False


def _fsync_write(path: str, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Publisher:
    """Publishes one spool directory to one sink; `service` names the drop folder when a record has no resource."""

    def __init__(self, spool_dir: str, sink, orphan_timeout_s: float = 600.0, own_path=lambda: None) -> None:
        self.dir = spool_dir
        self.sink = sink
        self.orphan_timeout_s = orphan_timeout_s
        self.own_path = own_path  # the open segment of this process (never sealed from here)
        self.staged_counts: dict[str, int] = {}

    # ---- the round
    def run(self, final: bool = False, force: bool = False, deadline: float | None = None,
            upload: bool = True) -> RoundReport:
        report = RoundReport()
        if not os.path.isdir(self.dir):
            return report
        lock_fd = os.open(os.path.join(self.dir, LOCK), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            while True:
                try:
                    fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError:
                    if deadline is None or time.monotonic() >= deadline:
                        report.locked_out = True
                        return report
                    time.sleep(0.01)
            self._recover()
            self._seal_dead()
            # staged objects first: with the sink down nothing more is converted (segments stay as they are)
            sink_ok = self._upload(report, deadline) if upload else True
            if sink_ok and upload:
                sink_ok = self._probe(report)  # a sink that is down: no conversion work, no memory spent
            while sink_ok and self._convert(report, final, force):  # a bounded batch at a time
                if upload:
                    sink_ok = self._upload(report, deadline)
            if sink_ok and upload:
                sink_ok = self._upload(report, deadline)  # what the last (orphan-only) conversion staged
            report.pending_segments = sum(1 for n in os.listdir(self.dir) if n.endswith((SEALED, OPEN)))
        finally:
            os.close(lock_fd)  # releases the flock
        return report

    def _recover(self) -> None:
        journal = os.path.join(self.dir, JOURNAL)
        if os.path.exists(journal):
            with open(journal) as f:
                self._apply(json.load(f))
        for root, _, files in os.walk(self.dir):
            for name in files:
                if name.endswith(".tmp"):
                    _unlink(os.path.join(root, name))

    def _seal_dead(self) -> None:
        own = self.own_path()
        for name in os.listdir(self.dir):
            path = os.path.join(self.dir, name)
            if not name.endswith(OPEN) or path == own:
                continue
            fd = try_lock(path)
            if fd is None:
                continue  # its writer is alive
            try:
                os.rename(path, path[: -len(OPEN)] + SEALED)
            except OSError:
                pass
            finally:
                os.close(fd)

    # ---- conversion
    def _read(self, report: RoundReport) -> tuple[list[str], list[dict]]:
        names = sorted(n for n in os.listdir(self.dir) if n.endswith(SEALED))
        batch, total = [], 0
        for n in names:
            size = os.path.getsize(os.path.join(self.dir, n))
            if batch and total + size > MAX_ROUND_BYTES:
                break
            batch.append(n)
            total += size
        records: list[dict] = []
        carry = os.path.join(self.dir, CARRY)
        if os.path.exists(carry):
            records.extend(self._lines(carry, None, report))
        for n in batch:
            records.extend(self._lines(os.path.join(self.dir, n), {}, report))
        return batch, records

    @staticmethod
    def _lines(path: str, resource: dict | None, report: RoundReport) -> list[dict]:
        out = []
        with open(path, "rb") as f:
            for i, raw in enumerate(f):
                try:
                    rec = _LOADS(raw.decode("utf-8"))
                except ValueError:  # UnicodeDecodeError included
                    report.torn_lines += 1
                    continue
                if resource is not None and i == 0 and "resource" in rec:
                    resource = rec["resource"]
                    continue
                if not isinstance(rec, dict) or "t" not in rec:
                    report.torn_lines += 1
                    continue
                if resource is not None:
                    rec["r"] = resource
                out.append(rec)
        return out

    def _convert(self, report: RoundReport, final: bool, force: bool) -> bool:
        batch, records = self._read(report)
        if not batch and not (records and (final or force)) and not self._carry_due(records):
            return False
        traces: dict[str, list[dict]] = {}
        for rec in records:
            traces.setdefault(rec["t"], []).append(rec)
        now_ns, me = time.time_ns(), os.getpid()
        emit, keep = [], []
        for recs in traces.values():
            if any(not r.get("p") for r in recs) or force:
                emit.append(recs)
                continue
            newest = max(r["e"] for r in recs)
            writers_gone = all(r.get("P") == me or not _pid_alive(r.get("P", 0)) for r in recs)
            if now_ns - newest > self.orphan_timeout_s * 1e9 or (final and writers_gone):
                emit.append(recs)
            else:
                keep.extend(recs)
        if not batch and not emit:
            return False
        groups: dict[str, list[list[dict]]] = {}
        names: dict[str, str] = {}  # service name -> its folder-safe form (a regex per trace otherwise)
        for recs in emit:
            service = (recs[0].get("r") or {}).get("service.name", "unknown_service")
            name = names.get(service) if type(service) is str else None
            if name is None:
                name = safe_name(service)
                if type(service) is str:
                    names[service] = name
            folder = f"capture-{name}-{hour_of(min(r['b'] for r in recs))}"
            groups.setdefault(folder, []).append(recs)
        stem = batch[0][: -len(SEALED)] if batch else f"{now_ns:020d}-{me}-carry"
        staged = []
        os.makedirs(os.path.join(self.dir, OUTBOX), exist_ok=True)
        document = DocumentText(_DUMPS)
        for folder, traces_of in groups.items():
            body = "".join(document(recs) + "\n" for recs in traces_of)
            rel = f"{folder}/{stem}.otlp.jsonl.gz"
            os.makedirs(os.path.join(self.dir, OUTBOX, folder), exist_ok=True)
            data = gzip.compress(body.encode("utf-8", "replace"), 6, mtime=0)
            _fsync_write(os.path.join(self.dir, OUTBOX, rel + ".tmp"), data)
            staged.append(rel)
            self.staged_counts[rel] = sum(len(t) for t in traces_of)
        if keep:
            lines = "".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in keep)
            _fsync_write(os.path.join(self.dir, CARRY + ".tmp"), lines.encode("utf-8", "replace"))
        journal = {"members": batch, "outbox": staged, "carry": bool(keep)}
        _fsync_write(os.path.join(self.dir, JOURNAL + ".tmp"), json.dumps(journal).encode())
        os.replace(os.path.join(self.dir, JOURNAL + ".tmp"), os.path.join(self.dir, JOURNAL))  # the commit point
        self._apply(journal)
        report.spans_staged += sum(len(t) for t in emit)
        return bool(batch)

    def _carry_due(self, records: list[dict]) -> bool:
        if not records:
            return False
        oldest = min(r["e"] for r in records)
        return time.time_ns() - oldest > self.orphan_timeout_s * 1e9

    def _apply(self, journal: dict) -> None:
        for rel in journal["outbox"]:
            tmp = os.path.join(self.dir, OUTBOX, rel + ".tmp")
            if os.path.exists(tmp):
                os.replace(tmp, os.path.join(self.dir, OUTBOX, rel))
        carry = os.path.join(self.dir, CARRY)
        if journal["carry"]:
            if os.path.exists(carry + ".tmp"):
                os.replace(carry + ".tmp", carry)
        else:
            _unlink(carry)
        for name in journal["members"]:
            _unlink(os.path.join(self.dir, name))
        _unlink(os.path.join(self.dir, JOURNAL))

    # ---- upload
    def _probe(self, report: RoundReport) -> bool:
        if self.sink is None or not any(n.endswith(SEALED) for n in os.listdir(self.dir)):
            return True
        try:
            self.sink.check()
        except Exception as exc:  # noqa: BLE001
            report.errors.append(f"{type(exc).__name__}: {exc}"[:300])
            return False
        return True

    def _upload(self, report: RoundReport, deadline: float | None) -> bool:
        """Upload staged objects; False when the sink failed or the deadline passed (more would fail too)."""
        outbox = os.path.join(self.dir, OUTBOX)
        pending = sorted(os.path.relpath(os.path.join(root, n), outbox)
                         for root, _, files in os.walk(outbox) for n in files if not n.endswith(".tmp"))
        for i, rel in enumerate(pending):
            if self.sink is None or (deadline is not None and time.monotonic() >= deadline):
                report.pending_objects = len(pending) - i
                return False
            folder, name = os.path.split(rel)
            try:
                self.sink.put(os.path.join(outbox, rel), folder, name)
            except Exception as exc:  # noqa: BLE001 - sink down: keep the file, try again next round
                report.errors.append(f"{type(exc).__name__}: {exc}"[:300])
                report.pending_objects = len(pending) - i
                return False
            _unlink(os.path.join(outbox, rel))
            report.objects_published += 1
            report.spans_published += self.staged_counts.pop(rel, 0)
            try:
                os.rmdir(os.path.join(outbox, folder))
            except OSError:
                pass
        report.pending_objects = 0
        return self.sink is not None or not pending
