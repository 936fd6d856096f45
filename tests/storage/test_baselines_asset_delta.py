"""The `baselines` asset on the Delta warehouse: its rows land in Delta (not in a DuckDB file), and `anomalies`
primes its detectors from `latest_baselines` read back through the Delta reader."""
import dagster as dg
import pyarrow.parquet as pq

from assets.anomalies import anomalies, baselines
from assets.ingest import log_entries
from pipeline.core.invariants.synthetic import generate_entries
from pipeline.core.storage.store_delta import DeltaStore
from pipeline.partitions import log_drops
from resources.storage import LakeResource, ObjectStoreResource, StrataConfigResource
from resources.warehouse import WarehouseResource


def test_baselines_on_delta_prime_anomalies(tmp_path):
    drops = tmp_path / "drops"
    drops.mkdir()
    pq.write_table(generate_entries(1500, seed=3, start="2025-01-06", days=1.0), drops / "day1.parquet")
    url = str(tmp_path / "delta")
    res = {"object_store": ObjectStoreResource(drops_url=str(drops)),
           "lake": LakeResource(lake_url=str(tmp_path / "lake"), artifacts_url=str(tmp_path / "artifacts")),
           "warehouse": WarehouseResource(database=str(tmp_path / "unused.duckdb"), url=url),
           "strata_config": StrataConfigResource(config_path="")}
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(log_drops.name, ["day1.parquet"])
    assert dg.materialize([log_entries], partition_key="day1.parquet", instance=instance, resources=res).success
    learned = dg.materialize([baselines], instance=instance, resources=res)
    assert learned.success
    table = DeltaStore(url).scan("baselines")
    assert table is not None and table.num_rows > 10
    assert set(table.column("computed_at").unique().to_pylist()) and table.column_names[:3] == [
        "computed_at", "window_start", "window_end"]
    scored = dg.materialize([anomalies], partition_key="day1.parquet", instance=instance, resources=res)
    (m,) = [e for e in scored.get_asset_materialization_events() if e.asset_key == dg.AssetKey("anomalies")]
    assert str(m.materialization.metadata["state_from"].value).startswith("baselines computed")
    assert not (tmp_path / "unused.duckdb").exists()
