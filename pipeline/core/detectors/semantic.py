"""Semantic novelty: texts are embedded (L2-normalized rows) and compared with an exponentially decaying centroid
of normal texts; the cosine distance is standardized to sigma by the running mean/std of past distances.
Novelty is one-sided: a text closer to the centroid than usual scores 0."""
from __future__ import annotations

import math
from typing import Protocol, runtime_checkable

import numpy as np
from scipy.signal import lfilter

from .base import Scored
from .vectorized import ewma_prior


@runtime_checkable
class Embedder(Protocol):
    def embed(self, texts: list[str]) -> np.ndarray:
        """One L2-normalized row per text (an all-zero row for a text with no features)."""


class HashingEmbedder:
    """Offline default: scikit-learn's HashingVectorizer (no fitting, no vocabulary, no download), word 1-2 grams,
    term counts with L2-normalized rows: good for streaming since nothing has to be learned first."""

    def __init__(self, n_features: int = 1024, ngram_range: tuple[int, int] = (1, 2)):
        from sklearn.feature_extraction.text import HashingVectorizer

        self.n_features = n_features
        self._vectorizer = HashingVectorizer(n_features=n_features, ngram_range=ngram_range,
                                             alternate_sign=False, norm="l2")

    def embed(self, texts: list[str]) -> np.ndarray:
        rows = self._vectorizer.transform(["" if t is None else str(t) for t in texts])
        return rows.toarray().astype(np.float64)


class SemanticNovelty:
    """Per-text reference detector on embedding vectors: score_one(vec), learn_one(vec)."""

    kind = "semantic"

    def __init__(self, alpha: float = 0.02, warmup: int = 20, threshold: float = 3.0, abs_floor: float = 1e-6):
        self.alpha, self.warmup, self.threshold, self.abs_floor = float(alpha), int(warmup), float(threshold), \
            float(abs_floor)
        self.n = 0
        self.centroid: list[float] | None = None
        self.dist_n, self.dist_mean, self.dist_var = 0, 0.0, 0.0

    @property
    def params(self) -> dict:
        return {"alpha": self.alpha, "warmup": self.warmup, "threshold": self.threshold, "abs_floor": self.abs_floor}

    @property
    def expected(self) -> float:
        return self.dist_mean if self.dist_n else math.nan

    def distance(self, vec: np.ndarray) -> float:
        """Cosine distance to the centroid (1 when either has no direction)."""
        c = np.asarray(self.centroid)
        norm = math.sqrt(float(c @ c))
        return 1.0 - float(np.asarray(vec) @ c) / norm if norm > 0 else 1.0

    def score_one(self, vec: np.ndarray) -> float:
        if self.centroid is None or self.n < self.warmup:
            return math.nan
        z = (self.distance(vec) - self.dist_mean) / max(math.sqrt(self.dist_var), self.abs_floor)
        return max(z, 0.0)

    def learn_one(self, vec: np.ndarray) -> None:
        vec = np.asarray(vec, dtype=np.float64)
        if self.centroid is None:
            self.centroid, self.n = vec.tolist(), self.n + 1
            return
        normal = not self.score_one(vec) >= self.threshold  # NaN (warm-up) counts as normal
        a, keep = self.alpha, 1.0 - self.alpha
        d = self.distance(vec)
        if self.dist_n == 0:
            self.dist_mean, self.dist_var = d, 0.0
        else:
            dd = d - self.dist_mean
            self.dist_var = (keep * a) * (dd * dd) + keep * self.dist_var
            self.dist_mean = a * d + keep * self.dist_mean
        self.dist_n += 1
        if normal:  # only normal texts move the centroid
            self.centroid = (a * vec + keep * np.asarray(self.centroid)).tolist()
        self.n += 1

    def update(self, vec: np.ndarray) -> float:
        score = self.score_one(vec)
        self.learn_one(vec)
        return score

    def prime(self, embeddings: np.ndarray) -> None:
        """Learn a block of known-normal embeddings (and count them toward warm-up)."""
        for vec in np.asarray(embeddings, dtype=np.float64):
            self.learn_one(vec)

    def state(self) -> dict:
        return {"kind": self.kind, "params": self.params, "n": self.n, "centroid": self.centroid,
                "dist_n": self.dist_n, "dist_mean": self.dist_mean, "dist_var": self.dist_var}

    @classmethod
    def from_state(cls, state: dict) -> SemanticNovelty:
        det = cls(**state["params"])
        det.n, det.centroid = int(state["n"]), state["centroid"]
        det.dist_n, det.dist_mean, det.dist_var = int(state["dist_n"]), float(state["dist_mean"]), \
            float(state["dist_var"])
        return det


def semantic_scores(embeddings: np.ndarray, state: dict, distances: np.ndarray | None = None) -> Scored:
    """Vectorized SemanticNovelty: the centroid recursion by lfilter along the rows, assuming every point is
    normal; at the first point scoring >= threshold the centroid stands still, so the run restarts after it.
    `distances`, if given (length n), receives each text's cosine distance to the centroid before it."""
    emb = np.asarray(embeddings, dtype=np.float64)
    if emb.ndim != 2:
        emb = emb.reshape(len(emb), -1) if emb.size else np.empty((len(emb), 0))
    p = state["params"]
    a, keep = p["alpha"], 1.0 - p["alpha"]
    n, centroid = int(state["n"]), state["centroid"]
    dist = {"params": {"alpha": a}, "n": int(state["dist_n"]), "mean": float(state["dist_mean"]),
            "var": float(state["dist_var"])}
    scores, expected = np.full(len(emb), np.nan), np.full(len(emb), np.nan)
    pos, block = 0, 64
    if centroid is None and len(emb):
        centroid, n, pos = emb[0].copy(), n + 1, 1
        if distances is not None:
            distances[0] = np.nan
    centroid = None if centroid is None else np.asarray(centroid, dtype=np.float64)
    while pos < len(emb):
        chunk = emb[pos:pos + block]
        after = lfilter([a], [1.0, -keep], chunk, axis=0, zi=keep * centroid[None, :])[0]
        before = np.vstack((centroid[None, :], after[:-1]))
        norms = np.sqrt(np.einsum("ij,ij->i", before, before))
        cos = np.einsum("ij,ij->i", chunk, before) / np.where(norms > 0, norms, 1.0)
        d = np.where(norms > 0, 1.0 - cos, 1.0)
        mean, var, _, dist_after = ewma_prior(d, dist)
        z = np.maximum((d - mean) / np.maximum(np.sqrt(var), p["abs_floor"]), 0.0)
        z[n + np.arange(len(chunk)) < p["warmup"]] = np.nan
        novel = np.flatnonzero(z >= p["threshold"])
        stop = int(novel[0]) + 1 if novel.size else len(chunk)
        scores[pos:pos + stop] = z[:stop]
        if distances is not None:
            distances[pos:pos + stop] = d[:stop]
        expected[pos:pos + stop] = np.where(dist["n"] + np.arange(stop) > 0, mean[:stop], np.nan)
        if stop < len(chunk):
            dist = {**dist, "n": dist["n"] + stop, "mean": float(mean[stop]), "var": float(var[stop])}
        else:
            dist = dist_after
        centroid = before[stop - 1] if novel.size else after[-1]
        n, pos, block = n + stop, pos + stop, 64 if novel.size else block * 2
    new = {**state, "n": n, "centroid": None if centroid is None else centroid.tolist(), "dist_n": dist["n"],
           "dist_mean": dist["mean"], "dist_var": dist["var"]}
    return Scored(scores, expected, new)


def score_texts(texts: list[str], state: dict, embedder: Embedder | None = None) -> Scored:
    return semantic_scores((embedder or HashingEmbedder()).embed(list(texts)), state)
