"""Schedules. The daily staleness schedule arrives with invariants; nothing is scheduled for ingest, sensors drive it."""

schedules: list = []
