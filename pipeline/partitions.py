"""Partitions: one dynamic partition per log drop, added by the new-drop sensor; and the service a drop belongs to,
which orders runs (one run per service at a time, oldest drop first) and chains the anomaly detectors' state."""
import warnings

import dagster as dg

from pipeline.core.storage.drops import KEY_SEP

log_drops = dg.DynamicPartitionsDefinition(name="log_drops")

# Per-drop asset checks (assets/ingest_checks.py, assets/invariant_checks.py) are partitioned by log_drops, which
# Dagster 1.13 still marks as a preview feature: each partitioned check spec warned once per process, 32 lines in the
# webserver log. This is the one place that opts into the preview (every partitioned check uses log_drops), so the
# warning is silenced here, for that message only.
warnings.filterwarnings("ignore", message="Specifying a partitions_def on an AssetCheckSpec is currently in preview",
                        category=dg.PreviewWarning)

SERVICE_TAG = "strata/service"
ALL_SERVICES = "all"  # drops not grouped by service (STRATA_DROP_DEPTH=1) share one queue and one detector chain


def drop_service(key: str) -> str:
    """The service of a drop: its top folder when drops are grouped by service (`<service>/<drop>`, depth >= 2),
    otherwise `all`."""
    head, sep, _ = key.partition(KEY_SEP)
    return head if sep and head else ALL_SERVICES
