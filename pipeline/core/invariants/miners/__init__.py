"""Built-in miner families; importing this package registers them all."""
from . import branches, pii, relational, segments, semantic, session, statistical, structural, temporal  # noqa: F401
