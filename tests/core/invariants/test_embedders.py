"""Embedders: TF-IDF state round-trips exactly; the OpenAI embedder batches through the real client over loopback."""
from __future__ import annotations

import json

import numpy as np
import pytest

from pipeline.core.invariants import OpenAIEmbedder, TfidfEmbedder, discover
from pipeline.core.invariants.embedders import Embedder, embedder_from_spec

from .helpers import entries

TEXTS = ["refund issued to your card", "reset your password", "refund for the order", "parcel on its way"]


def test_tfidf_rows_are_normalized_and_rebuildable():
    emb = TfidfEmbedder().fit(TEXTS)
    vecs = emb.embed(TEXTS)
    assert isinstance(emb, Embedder)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-6)
    rebuilt = embedder_from_spec(json.loads(json.dumps(emb.describe())))
    assert np.allclose(rebuilt.embed(TEXTS), vecs, atol=1e-5)
    assert vecs[0] @ vecs[2] > vecs[0] @ vecs[1]  # the two refund texts are closer
    assert np.allclose(emb.embed(["zzz qqq"]), 0.0)  # unknown words: a zero row, not NaN


def test_openai_embedder_batches_over_loopback(httpserver):
    calls = []

    def handler(request):
        from werkzeug.wrappers import Response

        body = request.get_json()
        calls.append(body)
        data = [{"object": "embedding", "index": i, "embedding": [float(len(t)), 1.0, 0.0]} for i, t in enumerate(body["input"])]
        return Response(json.dumps({"object": "list", "data": data[::-1], "model": body["model"],
                                    "usage": {"prompt_tokens": 1, "total_tokens": 1}}), content_type="application/json")

    httpserver.expect_request("/v1/embeddings", method="POST").respond_with_handler(handler)
    emb = OpenAIEmbedder(model="test-embed", base_url=httpserver.url_for("/v1"), api_key="sk-test", batch_size=3)
    vecs = emb.embed(TEXTS + ["x"])
    assert [len(c["input"]) for c in calls] == [3, 2] and calls[0]["model"] == "test-embed"
    expected = np.array([[len(t), 1.0, 0.0] for t in TEXTS + ["x"]])
    assert np.allclose(vecs, expected / np.linalg.norm(expected, axis=1, keepdims=True))
    assert emb.describe() == {"name": "openai", "model": "test-embed", "base_url": httpserver.url_for("/v1")}
    rows = entries([{"output": t, "input": t} for t in TEXTS * 10])
    found = {i.id: i for i in discover(rows, families=["semantic"], embedder=emb, semantic_sample=20)}
    assert found["semantic:output:centroid_similarity"].check["embedder"]["name"] == "openai"


def test_sentence_transformers_is_optional():
    from pipeline.core.invariants import SentenceTransformerEmbedder

    emb = SentenceTransformerEmbedder("all-MiniLM-L6-v2")  # constructing never imports the package
    assert emb.describe() == {"name": "sentence-transformers", "model": "all-MiniLM-L6-v2"}
    try:
        import sentence_transformers  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError):
            emb.embed(["x"])
