"""Invariant mining: discover behavioral invariants in canonical entries, evaluate them, and track their staleness."""
from .baseline_io import load_baseline, save_baseline
from .discover import deduplicate, discover, discover_with_findings
from .embedders import Embedder, OpenAIEmbedder, SentenceTransformerEmbedder, TfidfEmbedder
from .evaluator import Evaluator, evaluate, evaluate_many, known_kinds, register_check_kind
from .model import CheckResult, Invariant, invariant_id, make_invariant
from .registry import MiningContext, register_miner, unregister_miner
from .staleness import Comparison, StalenessResult, check_staleness, compare

__all__ = [
    "CheckResult", "Comparison", "Embedder", "Evaluator", "Invariant", "MiningContext", "OpenAIEmbedder",
    "SentenceTransformerEmbedder", "StalenessResult", "TfidfEmbedder", "check_staleness", "compare", "deduplicate",
    "discover", "discover_with_findings", "evaluate", "evaluate_many", "invariant_id", "known_kinds", "load_baseline", "make_invariant",
    "register_check_kind", "register_miner", "save_baseline", "unregister_miner",
]
