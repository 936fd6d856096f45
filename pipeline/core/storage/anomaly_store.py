"""The warehouse's `anomalies` table: one drop's anomalies replace that drop's earlier rows."""
from __future__ import annotations

import pyarrow as pa


def store_anomalies(con, drop: str, found: pa.Table) -> int:
    """Replace `drop`'s rows with `found` (the table is created from its schema on first use)."""
    con.register("_strata_anomalies", found)
    try:
        con.execute("CREATE TABLE IF NOT EXISTS anomalies AS SELECT ''::VARCHAR AS drop, * FROM _strata_anomalies LIMIT 0")
        con.execute("DELETE FROM anomalies WHERE drop = ?", [drop])
        con.execute("INSERT INTO anomalies SELECT ?, * FROM _strata_anomalies", [drop])
    finally:
        con.unregister("_strata_anomalies")
    return found.num_rows
