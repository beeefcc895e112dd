"""Confidences that mean what they say: the design model's temperature, and how it is checked."""
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from pipeline.tag import MODELS_DIR, load_models, tag_input
from pipeline.tag.linear import JointScorer, LinearModel
from pipeline.tag.reliability import confidence_section, reliability, table, uncalibrated
from pipeline.tag.text import from_record
from pipeline.tag.train import calibrate, temperature

FIXTURES = Path(__file__).parent / "fixtures" / "tag" / "records.jsonl"


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


def test_calibration_changes_probabilities_never_the_prediction(tmp_path):
    raw = _toy_model(np.random.default_rng(3))
    rows = [([f"t{i}"], "a" if i % 2 else "b", "dev") for i in range(12)] * 3
    calibrated = calibrate(raw, rows)
    t = calibrated.meta["temperature"]
    assert t != 1.0 and "temperature" not in raw.meta  # a copy: the fitted model is left alone
    # What the product loads is the saved artefact, rounded to 4 digits.
    calibrated.save(tmp_path / "design.json.gz")
    model = LinearModel.load(tmp_path / "design.json.gz")
    assert model.meta["temperature"] == t
    for tokens in (["t0"], ["t1", "t5"], ["t2", "t3", "t11"], []):
        assert model.predict(tokens)[0] == raw.predict(tokens)[0]
        assert np.allclose(model.scores(tokens), raw.scores(tokens) / t, atol=1e-3)
    # The evaluation's comparison undoes it.
    back = uncalibrated({"design": model, "population": raw})
    assert np.allclose(back["design"].proba(["t1", "t5"]), raw.proba(["t1", "t5"]), atol=1e-3)
    assert isinstance(back["joint"], JointScorer)


def test_the_shipped_design_model_is_calibrated_without_changing_a_tag():
    models = load_models()
    t = models["design"].meta["temperature"]
    summary = json.loads((MODELS_DIR / "training.json").read_text())["models"]
    assert summary["design"]["temperature"] == t
    # Population and effect probabilities pass thresholds chosen on dev: they are left as fitted.
    assert "temperature" not in models["population"].meta and "temperature" not in models["effect"].meta
    raw_models = uncalibrated(models)
    assert raw_models["population"] is models["population"]
    records = [json.loads(line) for line in FIXTURES.read_text(encoding="utf-8").splitlines()]
    assert len(records) > 20
    for rec in records:
        inp = replace(from_record(rec), publication_types=[], mesh=[], indexing_method=None)
        now, fitted = tag_input(inp, None, models), tag_input(inp, None, raw_models)
        assert now["design"] == fitted["design"] and now["population"] == fitted["population"]
        # A temperature below 1 sharpens: the top class's probability can only rise (and above
        # 1 only fall); a rule's fixed confidence stays where it is.
        rise = now["design_confidence"] - fitted["design_confidence"]
        assert (rise >= -1e-3) if t < 1 else (rise <= 1e-3)


def test_confidence_section_reports_each_kind_of_tag():
    design = [(True, 0.95), (False, 0.45), (True, 0.55)]
    raw = [(True, 0.7), (False, 0.3), (True, 0.4)]
    direction = [(True, 0.85), (True, 0.82), (False, 0.88), (True, 0.55)]
    text = confidence_section(design, raw, [(True, 0.9), (False, 0.6)], direction, {"mixed": 2, "unclear": 5},
                              {"temperature": 0.75, "classes": 14})
    assert "(3 tags, ECE" in text and "temperature of 0.75" in text
    assert f"ECE would be {table(*zip(*raw))[1]:.3f}" in text
    # The raw probabilities averaged 0.467 while 2 of 3 were right.
    assert "understated how often it is right\n(right 0.667 of the time at a mean confidence of 0.467)" in text
    assert "the mean\nconfidence is 0.750 and 0.500 are right" in text
    assert f"(4\ntags that commit to a direction, ECE {table(*zip(*direction))[1]:.3f})" in text
    assert "Left out: 2 `mixed` tags" in text and "and 5 `unclear` ones" in text
    assert "| 0.8–0.9 | 3 | 0.667 | 0.850 |" in text  # the direction table
    assert "No held-out tags" in confidence_section([], raw, [], direction, {}, {"temperature": 1, "classes": 2})
