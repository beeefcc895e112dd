"""A multinomial linear model kept as gzipped JSON: vocabulary, weights, intercepts.

Features are binary token indicators scaled to unit length, so scoring one record is a sum of
weight rows: no scikit-learn at run time, no pickle, and the same numbers on any version.
"""
from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import numpy as np

FORMAT = "binary-l2-linear/1"


class LinearModel:
    def __init__(self, classes: list[str], vocab: dict[str, int], weights: np.ndarray,
                 intercept: np.ndarray, meta: dict | None = None):
        self.classes = list(classes)
        self.vocab = vocab
        self.weights = np.asarray(weights, dtype=np.float64)
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self.meta = meta or {}

    def indices(self, tokens) -> list[int]:
        vocab = self.vocab
        return sorted({vocab[t] for t in tokens if t in vocab})

    def scores(self, tokens) -> np.ndarray:
        idx = self.indices(tokens)
        if not idx:
            return self.intercept.copy()
        return self.intercept + self.weights[idx].sum(axis=0) / math.sqrt(len(idx))

    def proba(self, tokens) -> np.ndarray:
        s = self.scores(tokens)
        s = np.exp(s - s.max())
        return s / s.sum()

    def predict(self, tokens) -> tuple[str, float, dict[str, float]]:
        p = self.proba(tokens)
        best = int(p.argmax())
        return self.classes[best], float(p[best]), dict(zip(self.classes, p.tolist()))

    def save(self, path: Path, digits: int = 4) -> None:
        order = sorted(self.vocab, key=self.vocab.get)
        doc = {
            "format": FORMAT,
            "classes": self.classes,
            "tokens": order,
            "weights": [[round(float(w), digits) for w in self.weights[self.vocab[t]]] for t in order],
            "intercept": [round(float(b), digits) for b in self.intercept],
            "meta": self.meta,
        }
        data = json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()
        # mtime=0 keeps the artefact byte-identical across identical training runs.
        with open(path, "wb") as fh:
            fh.write(gzip.compress(data, compresslevel=9, mtime=0))

    @classmethod
    def load(cls, path: Path) -> "LinearModel":
        doc = json.loads(gzip.decompress(Path(path).read_bytes()))
        if doc.get("format") != FORMAT:
            raise ValueError(f"{path}: unknown model format {doc.get('format')!r}")
        vocab = {t: i for i, t in enumerate(doc["tokens"])}
        weights = np.array(doc["weights"], dtype=np.float64).reshape(len(vocab), len(doc["classes"]))
        return cls(doc["classes"], vocab, weights, np.array(doc["intercept"]), doc.get("meta"))


def design_matrix(token_lists, vocab: dict[str, int]):
    """The training-time twin of `LinearModel.scores`: same indicator set, same scaling."""
    from scipy.sparse import csr_matrix

    rows, cols, vals = [], [], []
    for r, tokens in enumerate(token_lists):
        idx = sorted({vocab[t] for t in tokens if t in vocab})
        if idx:
            v = 1.0 / math.sqrt(len(idx))
            rows.extend([r] * len(idx))
            cols.extend(idx)
            vals.extend([v] * len(idx))
    return csr_matrix((vals, (rows, cols)), shape=(len(token_lists), len(vocab)))
