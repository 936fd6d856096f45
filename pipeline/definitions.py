"""The one Definitions object of the Strata code location (named `strata` in workspace.yaml).

Every job runs with the in-process executor: a step does not start a subprocess that re-imports this module, so a
drop's run costs its compute plus one process start. Heavy libraries (scipy, numba, the detectors, drift and report
engines) are imported inside the assets that use them, so loading this module stays fast."""
import dagster as dg

from pipeline.core.config import load_config
from pipeline.core.settings import apply_defaults

apply_defaults()  # unset settings get local defaults; bad values fail the load with the variable's name
load_config()  # a broken strata.yml fails the load naming the file and setting, not the first run

from assets import anomalies, drift, ingest, ingest_checks, invariant_checks, invariants, report  # noqa: E402
from assets.alerts import alerts  # noqa: E402
from assets.automation import automation_sensor  # noqa: E402
from pipeline.jobs import checks_job, ingest_job, learn_job, publish_job, staleness_job  # noqa: E402
from resources.alerts import alert_resources  # noqa: E402
from resources.storage import LakeResource, ObjectStoreResource, StrataConfigResource  # noqa: E402
from resources.warehouse import WarehouseResource  # noqa: E402
from sensors.alerts import alert_sensors  # noqa: E402
from sensors.new_drop import new_log_drop_sensor  # noqa: E402

defs = dg.Definitions(
    assets=[ingest.raw_log_drops, alerts, *dg.load_assets_from_modules([ingest, invariants, anomalies, drift, report])],
    asset_checks=dg.load_asset_checks_from_modules([ingest_checks, invariant_checks]),
    jobs=[ingest_job, learn_job, staleness_job, publish_job, checks_job],
    sensors=[new_log_drop_sensor, automation_sensor, *alert_sensors],
    executor=dg.in_process_executor,
    resources={
        "object_store": ObjectStoreResource(
            drops_url=dg.EnvVar("STRATA_DROPS_URL"),
            storage_options_json=dg.EnvVar("STRATA_STORAGE_OPTIONS"),
            s3_endpoint_url=dg.EnvVar("STRATA_S3_ENDPOINT_URL"),
            drop_depth=dg.EnvVar.int("STRATA_DROP_DEPTH"),
        ),
        "lake": LakeResource(
            lake_url=dg.EnvVar("STRATA_LAKE_URL"),
            artifacts_url=dg.EnvVar("STRATA_ARTIFACTS_URL"),
            storage_options_json=dg.EnvVar("STRATA_STORAGE_OPTIONS"),
            s3_endpoint_url=dg.EnvVar("STRATA_S3_ENDPOINT_URL"),
        ),
        "warehouse": WarehouseResource(
            database=dg.EnvVar("STRATA_WAREHOUSE_PATH"),
            url=dg.EnvVar("STRATA_WAREHOUSE_URL"),
            storage_options_json=dg.EnvVar("STRATA_STORAGE_OPTIONS"),
            s3_endpoint_url=dg.EnvVar("STRATA_S3_ENDPOINT_URL"),
        ),
        "strata_config": StrataConfigResource(config_path=dg.EnvVar("STRATA_CONFIG")),
        **alert_resources(),
    },
)
