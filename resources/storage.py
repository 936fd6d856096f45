"""Object store (where drops arrive), lake and artifacts locations, and the strata.yml config, as Dagster resources."""
from __future__ import annotations

from typing import Optional

import dagster as dg
from pydantic import PrivateAttr

from pipeline.core.config import StrataConfig, load_config
from pipeline.core.storage.drops import Drop, drop_objects, list_drops
from pipeline.core.settings import storage_options_from_env
from pipeline.core.ingest.sources import SourceObject


def _options(storage_options_json: str, s3_endpoint_url: Optional[str]) -> dict:
    env = {"STRATA_STORAGE_OPTIONS": storage_options_json or "", "STRATA_S3_ENDPOINT_URL": s3_endpoint_url or ""}
    return storage_options_from_env(env)


class ObjectStoreResource(dg.ConfigurableResource):
    """Where raw log drops land: any fsspec URL; each entry `drop_depth` levels under it is one drop."""

    drops_url: str
    storage_options_json: str = ""
    s3_endpoint_url: Optional[str] = None
    drop_depth: int = 1

    def storage_options(self) -> dict:
        return _options(self.storage_options_json, self.s3_endpoint_url)

    def list_drops(self) -> list[Drop]:
        return list_drops(self.drops_url, self.storage_options(), self.drop_depth)

    def objects_for(self, drop: str) -> list[SourceObject]:
        return drop_objects(self.drops_url, drop, self.storage_options(), self.drop_depth)


class LakeResource(dg.ConfigurableResource):
    """The normalized lake (Parquet per drop, quarantine beside it) and the artifacts folder (reports, suites)."""

    lake_url: str
    artifacts_url: str
    storage_options_json: str = ""
    s3_endpoint_url: Optional[str] = None

    def storage_options(self) -> dict:
        return _options(self.storage_options_json, self.s3_endpoint_url)


class StrataConfigResource(dg.ConfigurableResource):
    """strata.yml (role overrides, prices, sampling), validated when the code location loads."""

    config_path: str = ""
    _config: StrataConfig = PrivateAttr(default=None)

    def setup_for_execution(self, context) -> None:
        self._config = load_config(self.config_path or None, discover=not self.config_path)

    def get(self) -> StrataConfig:
        if self._config is None:
            self._config = load_config(self.config_path or None, discover=not self.config_path)
        return self._config
