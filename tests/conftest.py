"""Test-wide settings: under CI (`CI=1`, set by .ci/run) hypothesis runs derandomized, so a landing never depends on
a lucky draw; locally it explores fresh examples every run."""
import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
