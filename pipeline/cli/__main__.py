"""`python -m pipeline.cli`: the same as the `strata` command."""
import sys

from . import main

sys.exit(main())
