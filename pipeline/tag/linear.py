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

from .features import phrase_keys, tokens_of

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
        if not isinstance(tokens, (set, frozenset)):
            tokens = set(tokens)
        # A keys-view intersection runs in C; most of a record's tokens are not in the vocabulary.
        return [vocab[t] for t in vocab.keys() & tokens]

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


class JointScorer:
    """Several models over the same tokens, scored with one dictionary probe per token.

    Looking a record's ~800 tokens up costs more than the arithmetic; the design and population
    models share most of their vocabulary, so one merged vocabulary halves that cost. All models'
    weights, and a column per model counting the tokens it knows, sit side by side in one matrix
    so a record costs one row gather and one sum whatever the number of models.
    """

    def __init__(self, models: dict[str, LinearModel]):
        self.models = models
        tokens = sorted(set().union(*(m.vocab for m in models.values())))
        # Row 0 stays zero and no token maps to it, so `filter(None, ...)` drops unknown tokens.
        self.vocab = {t: i + 1 for i, t in enumerate(tokens)}
        width = sum(len(m.classes) for m in models.values()) + len(models)
        self.matrix = np.zeros((len(tokens) + 1, width))
        self.columns: dict[str, tuple[slice, int]] = {}
        col, count_col = 0, width - len(models)
        for name, m in models.items():
            rows = [self.vocab[t] for t in m.vocab]
            self.matrix[rows, col:col + len(m.classes)] = m.weights[[m.vocab[t] for t in m.vocab]]
            self.matrix[rows, count_col] = 1.0
            self.columns[name] = (slice(col, col + len(m.classes)), count_col)
            col += len(m.classes)
            count_col += 1
        self._intercepts = np.concatenate([m.intercept for m in models.values()]) if models else np.zeros(0)
        self._count_cols = np.array([count for _, count in self.columns.values()], dtype=np.intp)
        self._model_of_col = np.repeat(np.arange(len(models)), [len(m.classes) for m in models.values()])
        self._spans = [(name, m.classes, self.columns[name][0].start, self.columns[name][0].stop)
                       for name, m in models.items()]

        # Token lookup by hash: a record's ~600 strings already carry their hash (they were put in
        # a set), and a binary search in one small sorted array misses the CPU cache far less than
        # ~600 probes into a 30,000-key dict, the largest single cost of tagging. Two different
        # strings share a 64-bit hash with odds of about 1 in 10^12 per record; if two vocabulary
        # tokens ever did, the dict is used instead.
        hashes = np.fromiter(map(hash, tokens), dtype=np.int64, count=len(tokens))
        order = np.argsort(hashes, kind="stable")
        self._hashes = hashes[order]
        self._rows = (order + 1).astype(np.intp)
        self._by_hash = len(tokens) > 0 and bool(np.all(self._hashes[1:] != self._hashes[:-1]))
        self._table_for_rows(tokens, order)

    def _table_for_rows(self, tokens: list[str], order: np.ndarray) -> None:
        """The lookup `rows()` uses: each token's key is its string hash, or for a word pair
        ("a b": no word holds a space or a colon) the `features.pair_keys` mix of its words'
        hashes, so a record's pairs are never joined into strings. Keys sit in an open table at
        the slot their low bits name, which finds most with one gather; a key whose slot was taken
        waits in a small sorted overflow array. Each key leads to its token's rank, its place in
        `_hashes`, because `indices` returns rows in rank order."""
        n = len(tokens)
        rank = np.empty(n, dtype=np.intp)
        rank[order] = np.arange(n)
        is_pair = np.array([t.count(" ") == 1 and ":" not in t for t in tokens], dtype=bool)
        keys = np.empty(n, dtype=np.int64)
        keys[~is_pair] = [hash(t) for t, pair in zip(tokens, is_pair) if not pair]
        keys[is_pair] = phrase_keys([t for t, pair in zip(tokens, is_pair) if pair])
        # A quarter full: a bigger table overflows less but misses the cache more.
        size = 1 << max(4, int(4 * n - 1).bit_length())
        self._slot_mask = size - 1
        # An empty slot holds a key that belongs to the next slot, so no query can match it.
        self._slot_key = np.arange(1, size + 1, dtype=np.int64)
        self._slot_rank = np.full(size, -1, dtype=np.intp)
        self._slot_spills = np.zeros(size, dtype=bool)
        spilled = []
        for key, r, slot in zip(keys.tolist(), rank.tolist(), (keys & self._slot_mask).tolist()):
            if self._slot_rank[slot] < 0:
                self._slot_key[slot], self._slot_rank[slot] = key, r
            else:
                self._slot_spills[slot] = True
                spilled.append((key, r))
        spilled.sort()
        self._spill_key = np.array([k for k, _ in spilled], dtype=np.int64)
        self._spill_rank = np.array([r for _, r in spilled], dtype=np.intp)
        # Two keys alike (a 2**-64 coincidence) would make a pair and a token indistinguishable.
        self._by_key = n > 0 and len(np.unique(keys)) == n
        self._n_tokens = n

    def indices(self, tokens: set[str]) -> np.ndarray:
        if not isinstance(tokens, (set, frozenset)):
            tokens = set(tokens)  # each token counts once, as in training
        if not self._by_hash:
            return np.fromiter(filter(None, map(self.vocab.get, tokens)), dtype=np.intp)
        h = np.fromiter(map(hash, tokens), dtype=np.int64, count=len(tokens))
        h.sort()  # ascending queries walk the sorted array in one direction: fewer cache misses
        pos = np.searchsorted(self._hashes, h)
        pos[pos == len(self._hashes)] = 0
        return self._rows[pos[self._hashes[pos] == h]]

    def rows(self, seq: list[str], hashes: np.ndarray, keys: np.ndarray, other: list[str]) -> np.ndarray:
        """`indices(features.tokens_of(seq, other))` from `features.record_parts()`'s words, their
        hashes, their pair keys and the other tokens: the same rows in the same order (so the same
        sums to the last bit), without making the pair strings."""
        if not (self._by_hash and self._by_key):
            return self.indices(tokens_of(seq, other))
        q = np.concatenate((hashes, np.fromiter(map(hash, other), dtype=np.int64, count=len(other)), keys))
        slots = q & self._slot_mask
        hit = self._slot_key[slots] == q
        seen = np.zeros(self._n_tokens, dtype=bool)  # dedupes and orders by rank in one pass
        seen[self._slot_rank[slots[hit]]] = True
        spilled = q[self._slot_spills[slots] & ~hit]
        if len(spilled):
            at = self._spill_key.searchsorted(spilled)
            at[at == len(self._spill_key)] = 0
            seen[self._spill_rank[at[self._spill_key[at] == spilled]]] = True
        return self._rows[seen.nonzero()[0]]

    def predict_all(self, idx: np.ndarray) -> dict[str, tuple[str, float, dict[str, float]]]:
        """Every model's (label, its probability, every class's probability) for one record's
        `indices()`, as `LinearModel.predict` gives them."""
        sums = self._sums(idx)
        counts = sums[self._count_cols]
        counts[counts == 0] = 1.0  # a model that knows no token keeps its intercepts: 0 / 1 adds nothing
        # Every model's scores in one vectorised step, the same operations `LinearModel.scores` does.
        scores = (self._intercepts + sums[:len(self._intercepts)] / np.sqrt(counts)[self._model_of_col]).tolist()
        return {name: _softmax_top(classes, scores[a:b]) for name, classes, a, b in self._spans}

    def predict(self, name: str, idx: np.ndarray) -> tuple[str, float, dict[str, float]]:
        return self.predict_all(idx)[name]

    def _sums(self, idx: np.ndarray) -> np.ndarray:
        # np.add.reduce is what ndarray.sum calls, minus a layer of Python.
        return np.add.reduce(self.matrix.take(idx, axis=0), axis=0) if len(idx) else np.zeros(self.matrix.shape[1])


def _softmax_top(classes: list[str], scores: list[float]) -> tuple[str, float, dict[str, float]]:
    # A softmax over a dozen numbers: plain floats beat numpy's per-call overhead here.
    top = max(scores)
    exps = [math.exp(x - top) for x in scores]
    total = sum(exps)
    best = scores.index(top)
    return classes[best], exps[best] / total, {c: e / total for c, e in zip(classes, exps)}


def design_matrix(token_lists, vocab: dict[str, int]):
    """The training-time twin of `LinearModel.scores`: same indicator set, same scaling."""
    from scipy.sparse import csr_matrix

    rows, cols, vals = [], [], []
    for r, tokens in enumerate(token_lists):
        idx = sorted({vocab[t] for t in tokens if t in vocab})  # same set as LinearModel.indices
        if idx:
            v = 1.0 / math.sqrt(len(idx))
            rows.extend([r] * len(idx))
            cols.extend(idx)
            vals.extend([v] * len(idx))
    return csr_matrix((vals, (rows, cols)), shape=(len(token_lists), len(vocab)))
