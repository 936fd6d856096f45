"""Partitions: one dynamic partition per log drop, added by the new-drop sensor."""
import dagster as dg

log_drops = dg.DynamicPartitionsDefinition(name="log_drops")
