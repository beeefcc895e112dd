"""Confidences that mean what they say: the design model's temperature, and how it is checked."""
import json

import numpy as np
import pytest

from pipeline.tag import MODELS_DIR, load_models
from pipeline.tag.linear import JointScorer, LinearModel
from pipeline.tag.reliability import confidence_section, reliability, table, uncalibrated
from pipeline.tag.train import calibrate, temperature


def test_reliability_groups_by_tenth_and_averages_the_gap_over_tags():
    correct = [True, True, True, False, False, False, True]
    confidence = [0.85, 0.81, 0.89, 0.85, 0.15, 0.1, 1.0]
    rows, ece = reliability(correct, confidence)
    assert [(low, n) for low, _, n, _, _ in rows] == [(0.1, 2), (0.8, 4), (0.9, 1)]  # 1.0 is in the top tenth
    (_, _, _, right_low, mean_low), (_, _, _, right_mid, mean_mid), (_, _, _, right_top, mean_top) = rows
    assert (right_low, mean_low) == (0.0, pytest.approx(0.125))
    assert (right_mid, mean_mid) == (0.75, pytest.approx(0.85))
    assert (right_top, mean_top) == (1.0, 1.0)
    assert ece == pytest.approx((2 * 0.125 + 4 * 0.1 + 0) / 7)
    text, same = table(correct, confidence)
    assert same == ece
    assert "| 0.8–0.9 | 4 | 0.750 | 0.850 |" in text


def _toy_model(rng) -> LinearModel:
    vocab = {f"t{i}": i for i in range(12)}
    return LinearModel(["a", "b", "c"], vocab, rng.normal(0, 1.5, size=(12, 3)), np.array([0.2, 0.0, -0.2]))


def test_temperature_recovers_the_one_the_labels_were_drawn_with():
    rng = np.random.default_rng(7)
    model = _toy_model(rng)
    rows = []
    for _ in range(6000):
        tokens = [f"t{i}" for i in rng.choice(12, size=rng.integers(1, 5), replace=False)]
        p = np.exp(model.scores(tokens) / 0.6)
        rows.append((tokens, model.classes[rng.choice(3, p=p / p.sum())], "dev"))
    assert temperature(model, rows) == pytest.approx(0.6, abs=0.05)
    # Labels drawn from the model's own probabilities need no rescaling.
    rows = [(tokens, model.classes[rng.choice(3, p=model.proba(tokens))], "dev") for tokens, _, _ in rows]
    assert temperature(model, rows) == pytest.approx(1.0, abs=0.08)


def test_calibration_changes_probabilities_never_the_prediction():
    rng = np.random.default_rng(3)
    raw = _toy_model(rng)
    model = _toy_model(np.random.default_rng(3))
    rows = [([f"t{i}"], "a" if i % 2 else "b", "dev") for i in range(12)] * 3
    calibrate(model, rows)
    t = model.meta["temperature"]
    assert t != 1.0
    for tokens in (["t0"], ["t1", "t5"], ["t2", "t3", "t11"], []):
        assert model.predict(tokens)[0] == raw.predict(tokens)[0]
        assert np.allclose(model.scores(tokens), raw.scores(tokens) / t)
    # The evaluation's comparison undoes it exactly.
    back = uncalibrated({"design": model, "population": raw})
    assert np.allclose(back["design"].proba(["t1", "t5"]), raw.proba(["t1", "t5"]))
    assert isinstance(back["joint"], JointScorer)


def test_the_shipped_design_model_records_the_temperature_it_was_trained_with():
    models = load_models()
    summary = json.loads((MODELS_DIR / "training.json").read_text())["models"]
    assert models["design"].meta["temperature"] == summary["design"]["temperature"]
    # Population and effect probabilities pass thresholds chosen on dev: they are left as fitted.
    assert "temperature" not in models["population"].meta and "temperature" not in models["effect"].meta
    assert uncalibrated(models)["population"] is models["population"]


def test_confidence_section_reports_each_kind_of_tag():
    design = [(True, 0.95), (False, 0.45), (True, 0.55)]
    text = confidence_section(design, [(True, 0.7), (False, 0.3), (True, 0.4)], [(True, 0.9)],
                              [(False, 0.0), (True, 0.8)], 0.75)
    assert "3 tags, ECE" in text and "temperature of 0.75" in text
    assert f"ECE would be {table(*zip(*[(True, 0.7), (False, 0.3), (True, 0.4)]))[1]:.3f}" in text
    assert "mean\nconfidence is 0.900 and 1.000 are right" in text
    assert "| 0.0–0.1 | 1 | 0.000 | 0.000 |" in text
