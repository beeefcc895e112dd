"""Study design: from the indexer's publication types when they can be trusted, else from text.

The text path is a linear model over title/abstract tokens (trained on indexed records with
the publication types hidden, and on abstracts whose title declares their design) followed by
rules for phrasings the 1970s training records hardly use but every modern abstract does
("systematic review", "randomized controlled trial", "study protocol") and for designs NLM has
no publication type for (single-arm trial, case series). A title that names the paper's own
design ("...: a retrospective cohort study") is taken at its word.
"""
from __future__ import annotations

from .indexing import design_from_indexing, trusted
from .text import TagInput

DESIGNS = ("meta_analysis", "systematic_review", "rct", "non_randomized_trial", "single_arm_trial", "cohort",
           "case_control", "cross_sectional", "case_series", "case_report", "narrative_review", "guideline",
           "protocol", "opinion", "lab_experiment", "other")

# Confidence reported for a decision a rule made outright rather than the model.
_OVERRIDE_CONFIDENCE = 0.9
_OBSERVATIONAL = ("other", "cohort", "case_control", "cross_sectional", "case_series", "non_randomized_trial")


def from_indexer(inp: TagInput) -> tuple[str, float] | None:
    """The indexer's design, or None when the record is unindexed, automated, or names none."""
    if not trusted(inp.indexing_method):
        return None
    design, confidence = design_from_indexing(inp.publication_types, inp.mesh)
    return (design, confidence) if design else None


_SYNTHESES = ("meta_analysis", "systematic_review")
# Vocabulary every evidence synthesis uses somewhere: where its studies were searched for, or that
# they were pooled. ("Inclusion criteria" and "were identified", the `synth` cue, also describe
# patients in a primary study.)
_SYNTHESIS_CUES = frozenset(("meta", "metaself", "sysrev", "dbsearch"))


def from_text(prediction: tuple, found: set[str], title_cues: set[str],
              declared: str | None = None) -> tuple[str, float]:
    """The design model's (label, probability[, every class's probability]), refined by cue rules
    and by the design the title declares (`declared.declared_design`), if any."""
    design, confidence = prediction[:2]
    if design in _SYNTHESES and len(prediction) > 2 and not (found | title_cues) & _SYNTHESIS_CUES:
        # The model also reads a review's statistics ("pooled OR", "95% CI"), which primary
        # studies share; a review that never says how it found its studies is rarely one.
        others = {c: p for c, p in prediction[2].items() if c not in _SYNTHESES}
        if others and sum(others.values()) > 0:
            design = max(others, key=others.get)
            confidence = others[design] / sum(others.values())
    return apply_rules(design, confidence, found, title_cues, declared)


def _declared_trial_overread(declared: str, design: str, found: set[str], title_cues: set[str]) -> bool:
    """A "randomized trial" in the title of an animal experiment ("a randomized large animal
    trial") or of a letter or viewpoint the model reads as one: the rules below decide."""
    return declared == "rct" and ((design == "lab_experiment" and "animal" in found)
                                  or (design == "opinion" and "opinion" in title_cues))


def apply_rules(design: str, confidence: float, found: set[str], title_cues: set[str],
                declared: str | None = None) -> tuple[str, float]:
    """Refine the model's guess with cues; every branch is a phrasing the model under-learns."""
    if "protocol" in title_cues or ("protocol" in found and "future" in found and found & {"rand", "trialreg"}):
        return "protocol", _OVERRIDE_CONFIDENCE
    if "editorial" in title_cues and design not in ("case_report", "guideline"):
        # "Editorial: why we published an inconclusive trial" discusses a trial, it is not one.
        return "opinion", max(confidence, 0.75)
    if declared is not None and declared not in _SYNTHESES and not _declared_trial_overread(
            declared, design, found, title_cues):
        # The authors' own name for their design ("...: a retrospective cohort study"). Reviews are
        # left to the rules below, which tell a pooled review from one that does not pool.
        return declared, max(confidence, _OVERRIDE_CONFIDENCE) if design == declared else _OVERRIDE_CONFIDENCE
    synthesis = "sysrev" in found or ("dbsearch" in found and "synth" in found)
    if "meta" in title_cues or "metaself" in found or ("meta" in found and synthesis):
        return "meta_analysis", _OVERRIDE_CONFIDENCE
    if "sysrev" in title_cues or (synthesis and design in ("narrative_review", "other", "meta_analysis", "rct")):
        return ("meta_analysis" if "meta" in found else "systematic_review"), _OVERRIDE_CONFIDENCE
    if "guideline" in title_cues and design in ("narrative_review", "other", "opinion"):
        return "guideline", max(confidence, 0.6)
    if "onecase" in title_cues and design != "case_report":
        # A title naming "a case report" outranks a trial the case was part of.
        return "case_report", max(confidence, _OVERRIDE_CONFIDENCE)
    # Randomisation plus blinding, a registry number or the word "trial" is a randomized trial
    # (17 of 19 and 30 of 37 such train/dev records outside reviews), whatever the wording.
    trial = "rct" in found or ("rand" in found and "retro" not in found and bool(found & {"blind", "trialreg", "trial"}))
    if design == "lab_experiment" and "animal" in found:
        # Animals randomly assigned to groups: an experiment, not a clinical trial, even when the
        # text also names human cells or patients (3 of 3 such train/dev records).
        trial = False
    # A model that reads a letter or editorial is not overruled by trial words: such a record
    # discusses a trial ("Transparency in RCT reporting"), 5 of 5 train/dev cases, all title-only.
    if trial and design not in ("meta_analysis", "systematic_review", "protocol", "guideline", "case_report",
                                "opinion"):
        return "rct", max(confidence, _OVERRIDE_CONFIDENCE if "rct" in title_cues else 0.8)
    if design in ("rct", "non_randomized_trial") and "retro" in found:
        # The model's guess from trial vocabulary (or a registry number); a retrospective study is
        # not a trial.
        return "cohort", 0.6
    if design in ("rct", "non_randomized_trial") and "singlearm" in found:
        return "single_arm_trial", max(confidence, 0.7)
    if "casereport" in title_cues and design in _OBSERVATIONAL + ("narrative_review",):
        return "case_report", max(confidence, 0.75)
    one_case = "onecase" in found or ("wereport" in found and "aged" in found)
    if one_case and "caseseries" not in found and design in _OBSERVATIONAL + ("narrative_review", "opinion"):
        return "case_report", max(confidence, 0.7)
    if "caseseries" in found and design in _OBSERVATIONAL + ("narrative_review", "case_report"):
        return "case_series", 0.75
    if design in _OBSERVATIONAL:
        if "casecontrol" in found:
            return "case_control", 0.7
        if "crosssec" in title_cues:
            return "cross_sectional", 0.7
        if "chartreview" in found and design != "non_randomized_trial":
            return "case_series", 0.6
    return design, confidence
