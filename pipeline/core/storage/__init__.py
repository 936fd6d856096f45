"""Storage: the lake (normalized Parquet per drop, quarantine), the drops in object storage, and the warehouse tables."""
