"""What a tagger confidence means: how often tags given a confidence are right.

An analyst who keeps `design_confidence >= 0.8` or `direction_confidence >= 0.9` in SQL is
relying on the number being a probability. The evaluation checks it on held-out data: tags are
grouped by confidence in tenths, and each group's share of right tags is set beside its mean
confidence. The expected calibration error (ECE) is the gap between the two, averaged over
tags; 0 means a confidence of 0.7 is right 70% of the time.
"""
from __future__ import annotations

from .direction import MIXED, UNCLEAR
from . import with_joint
from .linear import LinearModel

BINS = 10


def reliability(correct: list[bool], confidence: list[float]) -> tuple[list[tuple], float]:
    """([(low, high, tags, share right, mean confidence) per non-empty tenth], ECE)."""
    groups: dict[int, list[tuple[bool, float]]] = {}
    for ok, c in zip(correct, confidence):
        groups.setdefault(min(int(c * BINS), BINS - 1), []).append((ok, c))
    rows, gap = [], 0.0
    for b in sorted(groups):
        items = groups[b]
        right = sum(ok for ok, _ in items) / len(items)
        mean = sum(c for _, c in items) / len(items)
        rows.append((b / BINS, (b + 1) / BINS, len(items), right, mean))
        gap += len(items) * abs(right - mean)
    return rows, gap / max(1, len(correct))


def table(correct: list[bool], confidence: list[float]) -> tuple[str, float]:
    """A markdown reliability table and the ECE."""
    rows, ece = reliability(correct, confidence)
    lines = ["| confidence | tags | right | mean confidence |", "|---|---:|---:|---:|"]
    lines += [f"| {low:.1f}–{high:.1f} | {n} | {right:.3f} | {mean:.3f} |" for low, high, n, right, mean in rows]
    return "\n".join(lines), ece


def uncalibrated(models: dict) -> dict:
    """`models` as fitted, for comparison: each rescaled model's scores multiplied back by its
    temperature."""
    out = dict(models)
    for name, model in models.items():
        if not isinstance(model, LinearModel):
            continue
        t = model.meta.get("temperature")
        if t:
            out[name] = LinearModel(model.classes, model.vocab, model.weights * t, model.intercept * t,
                                    {**model.meta, "temperature": 1.0})
    return with_joint(out)


def _mean(pairs, at: int) -> float:
    return sum(pair[at] for pair in pairs) / len(pairs)


def confidence_section(design, design_raw, declared, direction, held_back: dict, design_model: dict) -> str:
    """The evaluation's account of confidences. `design`, `design_raw` (from `uncalibrated`
    models), `declared` and `direction` hold (right?, confidence) pairs from the held-out split;
    `held_back` counts the mixed and unclear directions left out of `direction`; `design_model`
    gives the design model's "temperature" and number of "classes"."""
    if not (design and design_raw and declared and direction):
        return "## What a confidence means\n\nNo held-out tags to measure confidences on.\n"
    design_table, design_ece = table(*zip(*design))
    _, raw_ece = table(*zip(*design_raw))
    _, declared_ece = table(*zip(*declared))
    direction_table, direction_ece = table(*zip(*direction))
    raw_gap = _mean(design_raw, 0) - _mean(design_raw, 1)
    return f"""## What a confidence means

`design_confidence` and a claim's `direction_confidence` (for `supports`, `contradicts` and
`no_effect`) are meant as probabilities: of tags given 0.8, about 8 in 10 should be right. Below,
held-out tags are grouped by confidence in tenths and each group's share of right tags is set
beside its mean confidence; the expected calibration error (ECE) is the gap between the two
averaged over tags (0 is perfect). A design from the indexer is not in these figures: it is the
label itself.

**Design, text only — all held-out NLM-indexed records** ({len(design)} tags, ECE {design_ece:.3f}).
The design model's scores are divided by a temperature of {design_model['temperature']:g}, fitted on
the dev split by log loss when the model is trained (`train.calibrate`; it changes no design, only
the probability). With the fit's own probabilities the ECE would be {raw_ece:.3f}: regularised over
{design_model['classes']} classes, the model {"understated" if raw_gap > 0 else "overstated"} how often it is right
(right {_mean(design_raw, 0):.3f} of the time at a mean confidence of {_mean(design_raw, 1):.3f}). Rules that
decide a design outright report a fixed confidence (0.6–0.9; some keep the model's when it is
higher); those tags are part of these figures.

{design_table}

On the {len(declared)} held-out records whose title declares the design, read from the abstract
alone (the exact design, so a systematic review read as a meta-analysis is wrong), the mean
confidence is {_mean(declared, 1):.3f} and {_mean(declared, 0):.3f} are right (ECE {declared_ece:.3f}). Nearly all
are modern abstracts, while the table above is mostly 1970s records.

**Direction relative to a claim — Evidence Inference test spans, end to end** ({len(direction)}
tags that commit to a direction, ECE {direction_ece:.3f}). A direction's confidence is the
probability that the sentence shown reads as that direction (every effect that does counts: no
change and a decrease both support "does not cause X"), lowered when the sentence only stands in
for the outcome, times the share of the record's scored result sentences that agree, weighted by
their probabilities. Left out: {held_back.get(MIXED, 0)} `mixed` tags (confidence: the leading
direction's share) and {held_back.get(UNCLEAR, 0)} `unclear` ones (confidence 0), since every span
here has one labelled direction. When it was introduced (tagger `tag-6`), counting every effect
that reads as the direction, rather than the likeliest effect alone, changed no direction and
brought the dev-split ECE, with those tags in, from 0.047 to 0.035 (test: 0.060 both times). The
effect model is not rescaled, since the thresholds that pick sentences and directions were chosen
on its probabilities.

{direction_table}
"""
