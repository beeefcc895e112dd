"""How far a figure in docs/evaluation.md could move on another sample of the same size.

Several targets rest on a handful of held-out records (2 recent RCTs, a dozen recent systematic
reviews), where a point estimate alone reads as more certain than it is. Proportions (recall,
precision, agreement) get a Wilson score interval, which stays inside [0, 1] and means something
at 0 or n successes; F1, which has no closed form, gets a percentile bootstrap. Direction spans
come several to an article and are resampled by article, not by span.
"""
from __future__ import annotations

import math

import numpy as np

Z95 = 1.959963984540054
RESAMPLES = 2000
# Below this many examples of a class a percentile bootstrap mostly redraws the same few
# records and comes out too narrow; the report says "too few" instead.
MIN_SUPPORT = 10
_CHUNK = 50  # resamples drawn at once: memory is CHUNK x examples x 3 counts per label


def wilson(successes: int, n: int) -> tuple[float, float]:
    """95% Wilson score interval of `successes` out of `n` (the whole of [0, 1] when n is 0)."""
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    z2 = Z95 * Z95
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _counts(gold, pred, labels, groups) -> np.ndarray:
    """Per group, (true positives, false positives, false negatives) of each label."""
    index = {g: i for i, g in enumerate(dict.fromkeys(groups))}
    k = len(labels)
    counts = np.zeros((len(index), 3 * k))
    for group, y, p in zip(groups, gold, pred):
        row = index[group]
        for j, label in enumerate(labels):
            if y == label and p == label:
                counts[row, j] += 1
            elif p == label:
                counts[row, k + j] += 1
            elif y == label:
                counts[row, 2 * k + j] += 1
    return counts


def f1_from_counts(totals: np.ndarray, k: int) -> np.ndarray:
    """Mean over `k` labels of F1 = 2tp / (2tp + fp + fn), 0 where a label is neither predicted
    nor present (sklearn's zero_division=0), for each row of (tp..., fp..., fn...) totals."""
    tp, fp, fn = totals[..., :k], totals[..., k:2 * k], totals[..., 2 * k:]
    denominator = 2 * tp + fp + fn
    f1 = np.divide(2 * tp, denominator, out=np.zeros_like(tp), where=denominator > 0)
    return f1.mean(axis=-1)


def bootstrap_f1(gold, pred, labels, groups=None, resamples: int = RESAMPLES,
                 seed: int = 0) -> tuple[float, float] | None:
    """95% percentile interval of the macro-F1 over `labels` (one label: its F1), or None when
    the bootstrap cannot give one.

    Resamples examples with replacement, or whole `groups` (one id per example) when examples of
    a group are not independent. The seed is fixed, so the report is reproducible byte for byte.
    Every resample of a perfect (or a wholly wrong) classifier scores the same, and a
    zero-width interval would claim a certainty a few dozen records cannot give: None then.
    """
    groups = list(range(len(gold))) if groups is None else list(groups)
    counts = _counts(gold, pred, list(labels), groups)
    n = len(counts)
    if n == 0:
        return None
    rng = np.random.default_rng(seed)
    scores = []
    for start in range(0, resamples, _CHUNK):
        draws = rng.integers(0, n, size=(min(_CHUNK, resamples - start), n))
        scores.append(f1_from_counts(counts[draws].sum(axis=1), len(labels)))
    low, high = np.percentile(np.concatenate(scores), [2.5, 97.5])
    return None if low == high else (float(low), float(high))


def span(interval: tuple[float, float] | None) -> str:
    return "(no interval)" if interval is None else f"[{interval[0]:.3f}, {interval[1]:.3f}]"
