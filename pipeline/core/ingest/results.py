"""What ingest reports: per object (format, vendor, counts, schema) and per run (totals, rejects, the verdict)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .records import Reject


@dataclass
class SourceReport:
    """What was read from one object and how it was understood."""

    url: str
    format: str
    compression: str | None
    vendor: str | None
    bytes_read: int
    rows_read: int = 0
    rows_kept: int = 0
    rows_rejected: int = 0
    rows_skipped: int = 0  # recognized lines that hold no record (log chatter, health probes): neither kept nor rejected
    schema: dict = field(default_factory=dict)
    evolution: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class IngestResult:
    rows_read: int = 0
    rows_kept: int = 0
    rows_rejected: int = 0
    bytes_read: int = 0
    costs_filled: int = 0
    sources: list[SourceReport] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    sample: dict | None = None

    @property
    def formats(self) -> dict[str, int]:
        return dict(Counter(s.format for s in self.sources))

    @property
    def vendors(self) -> dict[str, int]:
        return dict(Counter(s.vendor for s in self.sources if s.vendor))

    @property
    def parse_rate(self) -> float | None:
        """Share of rows kept; None ("n/a") when nothing was read."""
        return self.rows_kept / self.rows_read if self.rows_read else None

    def problems(self, max_reject_share: float = 0.5) -> list[str]:
        """Why this result must not pass as a success: no entries at all, or a source yielding none or rejecting
        more than `max_reject_share` of its rows. Empty when all is well (an empty source is no problem)."""
        out = []
        if self.rows_read and not self.rows_kept:
            out.append(f"no entries: all {self.rows_read:,} rows rejected")
        for s in self.sources:
            if s.format == "unreadable":  # a dangling symlink or a loop: quarantined by name, not a reading failure
                continue
            share = s.rows_rejected / s.rows_read if s.rows_read else 0.0
            if s.rows_read and s.rows_kept == 0:
                out.append(f"{s.url}: no entries from {s.rows_read:,} rows")
            elif share > max_reject_share:
                out.append(f"{s.url}: {share:.0%} of rows rejected (more than {max_reject_share:.0%})")
        return out

    @property
    def rows_skipped(self) -> int:
        return sum(s.rows_skipped for s in self.sources)

    def reject_samples(self, reason: str = "unrecognized line format", n: int = 3) -> list[str]:
        raws = [r.raw[:200].decode("utf-8", "replace") for r in self.rejects if r.reason.startswith(reason)]
        return raws[:n]

    @property
    def reject_reasons(self) -> dict[str, int]:
        return dict(Counter(r.reason.split(":")[0] for r in self.rejects).most_common())

    def summary(self) -> dict:
        return {
            "rows_read": self.rows_read,
            "rows_kept": self.rows_kept,
            "rows_rejected": self.rows_rejected,
            "parse_rate": None if self.parse_rate is None else round(self.parse_rate, 6),
            "rows_skipped": self.rows_skipped,
            "bytes_read": self.bytes_read,
            "formats": self.formats,
            "vendors": self.vendors,
            "costs_filled": self.costs_filled,
            "reject_reasons": self.reject_reasons,
            "unrecognized_lines": self.reject_samples(),
            "objects": len(self.sources),
            "sample": self.sample,
        }
