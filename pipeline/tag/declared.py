"""The design a title says its paper is: "...: a randomized controlled trial", "A narrative review".

Authors name their own design in the title more and more often. The tagger takes that as
the answer when the title says it plainly, and `corpus` uses the same reading to label
modern abstracts for training and evaluation (the title is then hidden from the model).
"""
from __future__ import annotations

import re

# A title's closing segment ("...: a randomized controlled trial.") or opening words
# ("Meta-analysis of ...") that name the paper's own design. Titles naming a part of or a plan
# for a study (a protocol, a secondary or cost analysis, a reply) are left out: their design is
# not the one named.
_SEGMENTS = re.compile(r"[:?]\s+|\s[-\u2013\u2014]\s+|\.\s+")
_NOT_THE_STUDY = re.compile(
    r"\b(?:protocol|secondary|post[- ]?hoc|sub-?analys\w*|sub-?study|cost-\w+|costs?|economic|process evaluation"
    r"|qualitative|rationale|design|extension|follow-?up|pooled analysis|re-?analysis|exploratory|ancillary"
    r"|nested|lessons|commentary|reply|response to|letter|corrigendum|erratum|retraction|editorial|comment)\b",
    re.I)
_LEAD = r"^(?:an?\s+|the\s+)?"
_DECLARATIONS = [
    ("meta_analysis", re.compile(_LEAD + r"(?:[\w-]+\s+){0,3}?(?:network\s+)?meta[- ]?analysis\b", re.I)),
    ("systematic_review", re.compile(
        _LEAD + r"(?:[\w-]+\s+){0,3}?(?:systematic(?:\s+literature)?|scoping|umbrella)\s+review\b", re.I)),
    ("rct", re.compile(_LEAD + r"(?:[\w-]+,?\s+){0,5}?(?<!non[- ])(?<!quasi[- ])randomi[sz]ed[\s,-]+"
                       r"(?:[\w-]+,?\s+){0,5}?trial\b", re.I)),
    ("case_report", re.compile(_LEAD + r"(?:[\w-]+\s+){0,2}?case\s+report\b", re.I)),
    # Observational designs: the commonest modern primary studies, which the indexed labels
    # (MeSH check tags, mostly 1970s) hardly show in today's wording.
    ("case_series", re.compile(_LEAD + r"(?:[\w-]+,?\s+){0,3}?case\s+series\b", re.I)),
    ("case_control", re.compile(_LEAD + r"(?:[\w-]+,?\s+){0,5}?case[- ]control(?:led)?\s+(?:study|analysis)\b",
                                re.I)),
    ("cross_sectional", re.compile(
        _LEAD + r"(?:[\w-]+,?\s+){0,5}?cross[- ]sectional\s+(?:study|survey|analysis)\b", re.I)),
    ("cohort", re.compile(_LEAD + r"(?:[\w-]+,?\s+){0,5}?cohort\s+(?:study|analysis)\b", re.I)),
    ("narrative_review", re.compile(
        _LEAD + r"(?:[\w-]+\s+){0,2}?(?:narrative|literature|critical|mini-?|brief|comprehensive|historical)\s+review\b"
        r"|" + _LEAD + r"review\s+of\s+(?:the\s+)?literature\b", re.I)),
]
# Every declaration holds one of these: the tagger reads each title, and a substring test rules
# out nineteen in twenty of them at a twentieth of the cost of the patterns.
_GATE = ("analys", "review", "trial", "report", "series", "cohort", "control", "sectional", "literature")
# "A systematic review and meta-analysis" pools; "an umbrella review of meta-analyses" reviews.
_POOLED = re.compile(r"\band\s+(?:a\s+)?(?:network\s+)?meta[- ]?analy", re.I)
# "A cohort and cross-sectional study" names two observational designs, though only one is
# followed by "study".
_OBSERVATIONAL_WORDS = re.compile(r"\b(cohort|cross[- ]sectional|case[- ]control)", re.I)
# A review title that also reports patients ("review of the literature and report of 17 cases")
# is a case report or series with a literature section, not a review.
_REPORTS_CASES = re.compile(r"\b(?:cases?|report|reports|patients?)\b", re.I)


def declared_design(title: str) -> str | None:
    """The design a title says the paper is, or None when it does not say so plainly.

    "X and Y: a systematic review and meta-analysis" is a meta-analysis: a review that pools
    results is one, as NLM's publication types have it. A review of cohort studies is a review;
    a title naming two primary designs ("a cohort and cross-sectional study") names neither.
    """
    low = title.lower()
    if not any(word in low for word in _GATE):
        return None
    title = title.strip().rstrip(".")
    if not title or _NOT_THE_STUDY.search(title):
        return None
    segments = [s.strip() for s in _SEGMENTS.split(title)]
    candidates = [segments[-1], segments[0]] if len(segments) > 1 else segments
    for segment in candidates:
        named = [design for design, pattern in _DECLARATIONS if pattern.search(segment)]
        if not named:
            continue
        if "narrative_review" in named and (len(named) > 1 or _REPORTS_CASES.search(title)):
            named.remove("narrative_review")  # "a case report and review of the literature"
        if "case_report" in named and len(named) > 1:
            return None  # "a case report and systematic review": which one NLM would say is unclear
        if "meta_analysis" in named or ("systematic_review" in named and _POOLED.search(segment)):
            return "meta_analysis"
        if "systematic_review" in named:
            return "systematic_review"
        if len(named) > 1 or len({w.lower().replace(" ", "-") for w in _OBSERVATIONAL_WORDS.findall(segment)}) > 1:
            return None
        return named[0] if named else None
    return None
