"""Drift: a statistically grounded diff of behavior between two sets of entries (versions, a drop and its baseline)."""
