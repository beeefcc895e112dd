"""Train the three tagger models from the shared labelled data: `python -m pipeline.tag.train`.

- design: title/abstract tokens → the design NLM's publication types and MeSH imply
  (`indexing.design_label`), on indexed records (and recent unindexed records whose publisher
  supplied a design type) of the PMID-hashed train split; indexer metadata is never a feature.
  Records whose title declares their design ("...: a randomized controlled trial", "...: a
  retrospective cohort study") are also learnt from their abstract alone, with that label
  (`corpus.declared_examples`): the indexed records are mostly from the 1970s and hold few
  modern trials, reviews or observational studies.
- population: the same tokens → Humans / Animals / in-vitro check tags, indexed records only.
- effect: Evidence Inference evidence spans → increased / decreased / no difference, train
  split by PMCID; spans naming both arms are also learnt with the arms exchanged (`mirrored`).

Hyperparameters were chosen on the dev split (`--tune` reprints that search), and the design
model's scores are divided by a temperature fitted on dev by log loss (`calibrate`); the test
split is only read by `evaluate`. Fits are deterministic (lbfgs, fixed data order), so the same inputs
give byte-identical artefacts in `pipeline/tag/models/`.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter
from pathlib import Path

import numpy as np

from . import MODELS_DIR
from .corpus import DEV, TRAIN, declared_examples, evidence_examples, pubmed_articles, record_examples, shared_dir
from .effect import ArmMasker, effect_tokens
from .features import record_tokens
from .linear import LinearModel, design_matrix
from .outcomes import matcher_for, polarity

# Chosen on the dev split with --tune (macro-F1); see docs/evaluation.md.
PARAMS = {
    "design": {"C": 2.0, "min_df": 3, "max_features": 30_000, "class_weight": "sqrt", "grid": (1.0, 2.0, 4.0)},
    "population": {"C": 4.0, "min_df": 3, "max_features": 30_000, "class_weight": None, "grid": (1.0, 4.0, 16.0)},
    "effect": {"C": 1.0, "min_df": 2, "max_features": 30_000, "class_weight": "balanced",
               "grid": (1.0, 2.0, 4.0, 8.0, 16.0)},
}
# Weights this small change no prediction; dropping them keeps each artefact well under 1 MB.
PRUNE_BELOW = 0.02
# Models whose scores are divided by a temperature fitted on dev (`calibrate`). Only design:
# its probability is only ever reported, while population and effect probabilities also pass
# thresholds chosen on dev ("mixed" above 0.6, an effect above 0.5), which a rescale would move.
CALIBRATED = ("design",)


def build_vocab(token_sets, min_df: int, max_features: int) -> dict[str, int]:
    df = Counter(t for tokens in token_sets for t in set(tokens))
    kept = sorted((t for t, c in df.items() if c >= min_df), key=lambda t: (-df[t], t))[:max_features]
    return {t: i for i, t in enumerate(sorted(kept))}


def fit(token_sets, labels, params: dict, C: float | None = None) -> LinearModel:
    from sklearn.linear_model import LogisticRegression

    vocab = build_vocab(token_sets, params["min_df"], params["max_features"])
    X = design_matrix(token_sets, vocab)
    weighting = params["class_weight"]
    if weighting == "sqrt":
        # Halfway between none and "balanced": rare designs are not drowned by `other`, nor
        # predicted for every third record.
        counts = Counter(labels)
        weighting = {c: (len(labels) / (len(counts) * n)) ** 0.5 for c, n in counts.items()}
    # tol 1e-3 stops lbfgs once predictions no longer change; it keeps `make train` to minutes.
    clf = LogisticRegression(C=C or params["C"], max_iter=1000, tol=1e-3, class_weight=weighting)
    clf.fit(X, labels)
    classes = [str(c) for c in clf.classes_]
    weights = clf.coef_.T
    intercept = clf.intercept_
    if len(classes) == 2:  # sklearn keeps one column for two classes; store both sides
        weights = np.hstack([-weights / 2, weights / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    keep = [t for t, i in vocab.items() if np.abs(weights[i]).max() >= PRUNE_BELOW]
    rows = [vocab[t] for t in keep]
    return LinearModel(classes, {t: j for j, t in enumerate(keep)}, weights[rows], intercept,
                       meta={"C": C or params["C"], "n_train": len(labels),
                             "class_counts": dict(sorted(Counter(labels).items()))})


def temperature(model: LinearModel, rows) -> float:
    """The T for which softmax(scores / T) has the least log loss on `rows` (dev-split examples).

    Regularised with many classes, the design model is underconfident: on dev, records it gave
    0.4-0.5 were right 56% of the time. One divisor for every score keeps each prediction (the
    argmax cannot move) and makes the reported probability mean what it says.
    """
    from scipy.optimize import minimize_scalar

    known = [(tokens, model.classes.index(label)) for tokens, label, _ in rows if label in model.classes]
    scores = np.array([model.scores(tokens) for tokens, _ in known])
    gold = np.array([at for _, at in known])

    def log_loss(log_t: float) -> float:
        s = scores / math.exp(log_t)
        s = s - s.max(axis=1, keepdims=True)
        return float(np.mean(np.log(np.exp(s).sum(axis=1)) - s[np.arange(len(gold)), gold]))

    best = minimize_scalar(log_loss, bounds=(-3.0, 3.0), method="bounded", options={"xatol": 1e-4})
    return round(math.exp(best.x), 3)  # rounded so retraining gives byte-identical artefacts


def calibrate(model: LinearModel, rows) -> LinearModel:
    """A copy of `model` with its scores divided by the dev-split `temperature`, recorded in its meta."""
    t = temperature(model, rows)
    return LinearModel(model.classes, model.vocab, model.weights / t, model.intercept / t,
                       {**model.meta, "temperature": t})


def macro_f1(gold, pred) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(gold, pred, average="macro", zero_division=0))


def effect_features(ex, swapped: bool = False) -> list[str]:
    masker = ArmMasker(ex.intervention_terms, ex.comparator_terms, swapped)
    return effect_tokens(ex.evidence, masker, polarity(ex.outcome), matcher_for(ex.outcome))


_MIRROR = {"increased": "decreased", "decreased": "increased", "no_difference": "no_difference"}


def mirrored(ex) -> tuple[list[str], str] | None:
    """A span naming both arms, read with the arms exchanged, and the label that then holds.

    Most effect errors were increased/decreased swaps: a bag of words barely sees which arm a
    change belongs to. Each such training span also teaches the opposite arm order. Spans naming
    one arm are left alone ("X fell with intv" does not say what the comparator did).
    """
    masked = ArmMasker(ex.intervention_terms, ex.comparator_terms)(ex.evidence.lower())
    if " intv " not in masked or " cmpr " not in masked:
        return None
    return effect_features(ex, swapped=True), _MIRROR[ex.label]


def datasets(shared: Path) -> dict:
    articles = pubmed_articles(shared)
    records = record_examples(shared, articles)
    for ex in records:
        ex.tokens = record_tokens(ex.inp)[0]
    declared = declared_examples(shared, articles)
    evidence = evidence_examples(shared)
    for ex in evidence:
        ex.tokens = effect_features(ex)
    return {
        "design": [(ex.tokens, ex.design, ex.split) for ex in records]
        + [(record_tokens(ex.inp)[0], ex.design, ex.split) for ex in declared],
        "population": [(ex.tokens, ex.population, ex.split) for ex in records if ex.population],
        "effect": [(ex.tokens, ex.label, ex.split) for ex in evidence]
        + [(*mirror, TRAIN) for ex in evidence if ex.split == TRAIN and (mirror := mirrored(ex)) is not None],
    }


def tune(name: str, rows, log) -> None:
    train = [r for r in rows if r[2] == TRAIN]
    dev = [r for r in rows if r[2] == DEV]
    for C in PARAMS[name]["grid"]:
        model = fit([r[0] for r in train], [r[1] for r in train], PARAMS[name], C)
        pred = [model.predict(r[0])[0] for r in dev]
        log(f"  {name} C={C}: dev macro-F1 {macro_f1([r[1] for r in dev], pred):.3f}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.tag.train", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=MODELS_DIR, help="where the artefacts go")
    parser.add_argument("--tune", action="store_true", help="print the dev-split search instead of training")
    args = parser.parse_args(argv)
    shared = shared_dir()
    if shared is None:
        print("train: no shared data folder (set KETAMINE_SHARED_DIR); the committed models stay as they are",
              file=sys.stderr)
        return 2
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    log(f"train: reading labelled data from {shared}")
    data = datasets(shared)
    if args.tune:
        for name, rows in data.items():
            tune(name, rows, log)
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    summary = {}
    for name, rows in data.items():
        train = [r for r in rows if r[2] == TRAIN]
        model = fit([r[0] for r in train], [r[1] for r in train], PARAMS[name])
        if name in CALIBRATED:
            model = calibrate(model, [r for r in rows if r[2] == DEV])
            log(f"train: {name}: probabilities divided by temperature {model.meta['temperature']} (dev log loss)")
        path = args.out / f"{name}.json.gz"
        model.save(path)
        summary[name] = {"features": len(model.vocab), "classes": model.classes, "train_examples": len(train),
                         "bytes": path.stat().st_size}
        if "temperature" in model.meta:
            summary[name]["temperature"] = model.meta["temperature"]
        log(f"train: {name}: {len(train)} examples, {len(model.vocab)} features, {path.stat().st_size:,} bytes")
    (args.out / "training.json").write_text(json.dumps({"params": PARAMS, "models": summary}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
