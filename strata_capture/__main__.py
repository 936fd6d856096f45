"""`python -m strata_capture publish [--watch] [--force]`: see strata_capture.cli."""
from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
