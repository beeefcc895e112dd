"""The uncertainty intervals docs/evaluation.md prints beside each target."""
import random

import numpy as np
import pytest
from sklearn.metrics import f1_score

from pipeline.tag.evaluate import counted
from pipeline.tag.intervals import MIN_SUPPORT, Z95, bootstrap_f1, f1_from_counts, wilson, _counts


@pytest.mark.parametrize("successes,n", [(0, 10), (2, 2), (15, 35), (3046, 3046), (1, 1000)])
def test_wilson_bounds_solve_the_score_equation(successes, n):
    # The Wilson interval is the set of p whose score test does not reject: its ends are the
    # roots of (phat - p)^2 = z^2 p (1 - p) / n, clipped to [0, 1].
    low, high = wilson(successes, n)
    phat = successes / n
    assert 0.0 <= low <= phat <= high <= 1.0
    for p in (low, high):
        if 0.0 < p < 1.0:
            assert (phat - p) ** 2 == pytest.approx(Z95 ** 2 * p * (1 - p) / n, rel=1e-9, abs=1e-12)


def test_wilson_is_honest_about_tiny_samples():
    assert wilson(0, 0) == (0.0, 1.0)
    low, _ = wilson(2, 2)
    assert low < 0.5  # two of two found says little
    assert wilson(200, 200)[0] > 0.98


def test_f1_from_counts_matches_sklearn_macro():
    rng = random.Random(7)
    labels = ["a", "b", "c"]
    gold = [rng.choice(labels) for _ in range(300)]
    pred = [g if rng.random() < 0.7 else rng.choice(labels + ["d"]) for g in gold]
    totals = _counts(gold, pred, labels, range(len(gold))).sum(axis=0)
    assert f1_from_counts(totals, 3) == pytest.approx(f1_score(gold, pred, labels=labels, average="macro",
                                                               zero_division=0))
    # a label never present nor predicted scores 0, as sklearn's zero_division=0 does
    assert f1_from_counts(_counts(gold, pred, ["z"], range(len(gold))).sum(axis=0), 1) == 0.0


def _sample(n=200, seed=3):
    rng = random.Random(seed)
    gold = [rng.random() < 0.3 for _ in range(n)]
    pred = [g if rng.random() < 0.8 else not g for g in gold]
    return gold, pred


def test_bootstrap_is_reproducible_and_brackets_the_estimate():
    gold, pred = _sample()
    interval = bootstrap_f1(gold, pred, [True])
    assert interval == bootstrap_f1(gold, pred, [True])
    point = f1_score(gold, pred)
    assert interval[0] < point < interval[1]
    assert bootstrap_f1(gold, pred, [True], seed=1) != interval


def test_resampling_by_group_treats_copies_as_one_example():
    gold, pred = _sample()
    copies = 5
    gold5 = [g for g in gold for _ in range(copies)]
    pred5 = [p for p in pred for _ in range(copies)]
    groups = [i for i in range(len(gold)) for _ in range(copies)]
    alone = bootstrap_f1(gold, pred, [True])
    # Five copies of each article's span say no more than one: grouped, the interval is the
    # same as for the originals; ungrouped, the copies would pass for independent evidence.
    assert bootstrap_f1(gold5, pred5, [True], groups=groups) == pytest.approx(alone)
    narrow = bootstrap_f1(gold5, pred5, [True])
    assert narrow[1] - narrow[0] < 0.6 * (alone[1] - alone[0])


def test_counted_gives_no_f1_interval_below_min_support():
    gold = ["rct"] * (MIN_SUPPORT - 1) + ["other"] * 50
    pred = ["rct"] * (MIN_SUPPORT - 1) + ["other"] * 50
    few = counted(gold, pred, "rct", "other")
    assert few["f1"] == 1.0 and few["f1_interval"] is None
    assert few["recall_interval"] == wilson(MIN_SUPPORT - 1, MIN_SUPPORT - 1)
    more = counted(gold + ["rct"], pred + ["other"], "rct", "other")
    assert more["support"] == MIN_SUPPORT and more["f1_interval"] is not None
    assert more["recall"] == pytest.approx((MIN_SUPPORT - 1) / MIN_SUPPORT)
    assert np.isclose(more["precision"], 1.0)
    # the baseline predicts the majority class everywhere: it never finds a minority class
    assert more["baseline"] == (0.0, 0.0, 0.0)
    assert counted(gold, pred, "other", "other")["baseline"][1] == 1.0


def test_bootstrap_refuses_a_zero_width_interval():
    gold, _ = _sample()
    assert bootstrap_f1(gold, gold, [True]) is None  # every resample of a perfect classifier scores 1
    assert bootstrap_f1([], [], [True]) is None


def _targets(rct_found: int, rct_total: int):
    """Targets as evaluate_records returns them: every design subset with `rct_found` of
    `rct_total` RCTs found and nothing else predicted as one."""
    gold = ["rct"] * rct_total + ["other"] * 200
    pred = ["rct"] * rct_found + ["other"] * (rct_total - rct_found) + ["other"] * 200
    subset = {"rct": counted(gold, pred, "rct", "other"), "sr_ma": counted(gold, pred, "sr_ma", "other"),
              "case_report": counted(gold, pred, "case_report", "other")}
    pops = ["human"] * 100 + ["animal"] * 100
    t = {key: subset for key in ("all", "abstract", "recent")}
    for suffix in ("", "_abstract"):
        for cls in ("human", "animal"):
            t[cls + suffix] = counted(pops, pops, cls, "human")
    t.update(n_human_animal=200, n_human_animal_abstract=200, indexer=(10, 10, 20), indexer_baseline=0.5)
    d = {"direction_macro": 0.8, "effect_macro": 0.8, "claim_macro": 0.8, "direction_interval": (0.78, 0.82),
         "effect_interval": (0.7, 0.9), "claim_interval": (0.7, 0.85), "direction_baseline": 0.2,
         "effect_baseline": 0.2, "n_direction": 100, "n_articles": 20}
    return t, d


def test_summary_says_when_a_target_is_met_only_on_its_estimate():
    from pipeline.tag.evaluate import summary

    rows = {line.split(" | ")[0].lstrip("| "): line for line in summary(*_targets(2, 2)).splitlines()}
    few = rows["RCT recall ≥ 0.95 at precision ≥ 0.85 (recent, 2 RCTs)"]
    assert "recall 1.000 [0.342, 1.000]" in few and few.endswith("met on the estimate; the interval reaches "
                                                                 "below the target |")
    assert rows["Direction macro-F1 ≥ 0.75 (100 spans, 20 articles)"].endswith("| met |")
    assert "met on the estimate" in rows["Direction macro-F1 ≥ 0.75, claim given as one free-text sentence "
                                         "(`tag` interface, same 100 spans)"]
    # a perfect population tagger: no bootstrap interval, so not more than "met on the estimate"
    assert "every resample scores the same: no interval" in rows["Human vs animal F1 ≥ 0.95 (200 records)"]
    assert "under 10 examples: no interval" in rows["Systematic review/meta-analysis F1 ≥ 0.90 (all indexed, 0)"]

    many = {line.split(" | ")[0].lstrip("| "): line for line in summary(*_targets(400, 400)).splitlines()}
    assert many["RCT recall ≥ 0.95 at precision ≥ 0.85 (recent, 400 RCTs)"].endswith("| met |")
    missed = {line.split(" | ")[0].lstrip("| "): line for line in summary(*_targets(20, 40)).splitlines()}
    assert missed["RCT recall ≥ 0.95 at precision ≥ 0.85 (recent, 40 RCTs)"].endswith("| **not met** |")
