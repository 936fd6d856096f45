"""Fixtures for the capture SDK tests: a configured runtime on a temporary spool and a local drop folder."""
from __future__ import annotations

import pytest

import strata_capture as sc


@pytest.fixture
def capture(tmp_path):
    """Configure capture into tmp_path (publisher thread idle: tests flush explicitly); yields the drop folder."""
    drops = tmp_path / "drops"

    def setup(**overrides):
        settings = {"drop_url": str(drops), "spool_dir": str(tmp_path / "spool"), "service": "test-app",
                    "flush_interval_s": 3600, "metrics": "off", **overrides}
        sc.configure(**settings)
        return str(drops)

    setup.drops = str(drops)
    setup.spool = str(tmp_path / "spool")
    yield setup
    sc.shutdown(timeout=5)
