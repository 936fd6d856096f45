"""Text embedders behind one protocol (L2-normalized rows): TF-IDF offline by default, OpenAI or sentence-transformers."""
from __future__ import annotations

import os
from typing import Protocol, runtime_checkable

import numpy as np

TOKEN_PATTERN = r"(?u)\b[a-zA-Z][a-zA-Z]+\b"


@runtime_checkable
class Embedder(Protocol):
    def embed(self, texts: list[str]) -> np.ndarray:
        """One L2-normalized row per text."""

    def describe(self) -> dict:
        """JSON-able description, enough to rebuild an embedder giving the same vectors."""


def l2_normalize(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float32)
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.where(norms == 0, 1.0, norms)


class TfidfEmbedder:
    """Sublinear TF-IDF over a small vocabulary learned on the first texts it sees; its state travels in check
    specs so a baseline is re-evaluated with exactly the same vectors."""

    def __init__(self, max_features: int = 512, vocabulary: list[str] | None = None, idf: list[float] | None = None):
        self.max_features = max_features
        self.vocabulary = list(vocabulary) if vocabulary is not None else None
        self.idf = np.asarray(idf, dtype=np.float32) if idf is not None else None

    def fit(self, texts: list[str]) -> "TfidfEmbedder":
        from sklearn.feature_extraction.text import CountVectorizer

        vec = CountVectorizer(token_pattern=TOKEN_PATTERN, max_features=self.max_features, stop_words="english")
        try:
            counts = vec.fit_transform(texts)
        except ValueError:  # no tokens at all
            self.vocabulary, self.idf = [], np.zeros(0, dtype=np.float32)
            return self
        order = np.argsort(vec.get_feature_names_out())  # vocabulary in a stable (alphabetical) order
        self.vocabulary = [str(t) for t in vec.get_feature_names_out()[order]]
        df = np.asarray((counts > 0).sum(axis=0)).ravel()[order]
        self.idf = (np.log((1 + len(texts)) / (1 + df)) + 1).astype(np.float32)
        return self

    def embed(self, texts: list[str]) -> np.ndarray:
        from sklearn.feature_extraction.text import CountVectorizer

        if self.vocabulary is None:
            self.fit(texts)
        if not self.vocabulary:
            return np.zeros((len(texts), 1), dtype=np.float32)
        counts = CountVectorizer(token_pattern=TOKEN_PATTERN, vocabulary=self.vocabulary).transform(texts).astype(np.float32)
        counts.data = 1 + np.log(counts.data)
        return l2_normalize(counts.multiply(self.idf).toarray())

    def describe(self) -> dict:
        return {"name": "tfidf", "vocabulary": self.vocabulary or [],
                "idf": [round(float(v), 5) for v in (self.idf if self.idf is not None else [])]}


class OpenAIEmbedder:
    """OpenAI (or any compatible endpoint through base_url) embeddings, batched; the client is imported lazily."""

    def __init__(self, model: str = "text-embedding-3-small", base_url: str | None = None, api_key: str | None = None,
                 batch_size: int = 256, client=None):
        self.model, self.base_url, self.batch_size = model, base_url, batch_size
        self._api_key, self._client = api_key, client

    @property
    def client(self):
        if self._client is None:
            from openai import OpenAI

            self._client = OpenAI(api_key=self._api_key or os.environ.get("OPENAI_API_KEY", "unset"), base_url=self.base_url)
        return self._client

    def embed(self, texts: list[str]) -> np.ndarray:
        rows: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            batch = [t if t else " " for t in texts[start : start + self.batch_size]]
            resp = self.client.embeddings.create(model=self.model, input=batch)
            rows.extend(d.embedding for d in sorted(resp.data, key=lambda d: d.index))
        return l2_normalize(np.array(rows, dtype=np.float32)) if rows else np.zeros((0, 1), np.float32)

    def describe(self) -> dict:
        return {"name": "openai", "model": self.model, "base_url": self.base_url}


class SentenceTransformerEmbedder:
    """sentence-transformers model (optional extra `embeddings`), imported lazily."""

    def __init__(self, model: str = "all-MiniLM-L6-v2"):
        self.model = model
        self._st = None

    def embed(self, texts: list[str]) -> np.ndarray:
        if self._st is None:
            from sentence_transformers import SentenceTransformer

            self._st = SentenceTransformer(self.model)
        return l2_normalize(self._st.encode(list(texts), normalize_embeddings=True))

    def describe(self) -> dict:
        return {"name": "sentence-transformers", "model": self.model}


def embedder_from_spec(spec: dict, given: Embedder | None = None) -> Embedder:
    """The embedder a check spec names; a given embedder is reused when it describes the same model."""
    name = spec.get("name", "tfidf")
    if name == "tfidf":
        return TfidfEmbedder(vocabulary=spec.get("vocabulary") or [], idf=spec.get("idf") or [])
    if given is not None and given.describe().get("name") == name and given.describe().get("model") == spec.get("model"):
        return given
    if name == "openai":
        return OpenAIEmbedder(model=spec["model"], base_url=spec.get("base_url"))
    if name == "sentence-transformers":
        return SentenceTransformerEmbedder(spec["model"])
    if given is not None:
        return given
    raise ValueError(f"no embedder for {name!r}; pass one to the evaluator")
