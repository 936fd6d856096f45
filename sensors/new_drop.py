"""new_log_drop_sensor: lists the drops prefix (no listing cache), adds a partition, records the raw drop as an
observation and requests a run per new drop, tagged with its service (the run queue runs one per service at a time).
The cursor remembers what it handed out (key, mtime, size) besides the newest mtime, and the drops partitions remember
every drop ever requested, so a late file with an old mtime (`cp -p`, `rsync -t`, an S3 copy) is still ingested."""

import os

import dagster as dg

from pipeline.core.storage.drops import DropCursor, select_new
from pipeline.jobs import ingest_job
from pipeline.partitions import SERVICE_TAG, drop_service, log_drops
from resources.storage import ObjectStoreResource

MAX_DROPS_PER_TICK = int(os.environ.get("STRATA_MAX_DROPS_PER_TICK", "20"))
MIN_DROP_AGE_S = float(os.environ.get("STRATA_MIN_DROP_AGE_SECONDS", "0"))


@dg.sensor(job=ingest_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Lists the drops folder (STRATA_DROPS_URL) every 30 s; each new drop becomes a log_drops partition "
                       "and an ingest_job run tagged strata/service (oldest first, one run per service at a time).")
def new_log_drop_sensor(context: dg.SensorEvaluationContext, object_store: ObjectStoreResource) -> dg.SensorResult:
    cursor = DropCursor.parse(context.cursor)
    drops = object_store.list_drops()
    known = set(context.instance.get_dynamic_partitions(log_drops.name)) if context.instance_ref else None
    picked, new_cursor = select_new(drops, cursor, MAX_DROPS_PER_TICK, MIN_DROP_AGE_S, known=known)
    if not picked:
        return dg.SensorResult(skip_reason=f"no new drops among {len(drops)} under {object_store.drops_url}")
    keys = [d.key for d in picked]
    context.log.info(f"new drops: {', '.join(keys)}")
    return dg.SensorResult(
        run_requests=[dg.RunRequest(partition_key=d.key, run_key=f"{d.key}@{d.mtime:.6f}",
                                    tags={"strata/drop": d.key, SERVICE_TAG: drop_service(d.key)}) for d in picked],
        dynamic_partitions_requests=[log_drops.build_add_request(keys)],
        asset_events=[dg.AssetObservation("raw_log_drops", partition=d.key, metadata={
            "bytes": int(d.size), "objects": int(d.files), "modified": float(d.mtime),
            "dagster/uri": d.url if "://" in d.url else "file://" + d.url}) for d in picked],
        cursor=new_cursor.dump(),
    )
