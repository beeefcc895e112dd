"""What one result sentence says the intervention did to an outcome, relative to the comparator.

The sentence is rewritten into tokens a linear model trained on Evidence Inference evidence
spans can read: arms masked as `intv`/`cmpr` (so "lower than cmpr" and "lower than intv" are
different features), negation scoped over the following words, p-values and confidence
intervals reduced to significant / not significant, and "improved"/"worsened" turned into a
change in the outcome measure once the outcome's polarity is known (less pain is an
improvement, more remission is an improvement).
"""
from __future__ import annotations

import re

from .text import CaselessPattern, words

INCREASED = "increased"
DECREASED = "decreased"
NO_DIFFERENCE = "no_difference"
EFFECTS = (INCREASED, DECREASED, NO_DIFFERENCE)

# Terms that stand for "the arm under test" or "the arm it is measured against" in any trial,
# whatever the drugs are called.
GENERIC_INTERVENTION = ("intervention group", "intervention arm", "experimental group", "active group",
                        "treatment group", "treated group")
GENERIC_COMPARATOR = ("placebo", "saline", "controls", "control", "sham", "usual care", "standard care",
                      "waitlist", "wait-list", "baseline", "pretreatment", "pre-treatment", "vehicle")

_UP = frozenset("""increase increased increases increasing increment higher greater more elevated elevation
rise rose risen raised longer larger enhanced enhancement gain gained augmented exceeded prolonged
prolongation excess""".split())
_DOWN = frozenset("""decrease decreased decreases decreasing reduce reduced reduces reducing reduction reductions
lower lowered less fewer decline declined declines fell fall falls drop dropped shorter smaller
attenuated attenuation diminished suppressed inhibited alleviated relieved shortened lessened
lowest cut""".split())
_SAME = frozenset("similar comparable equivalent unchanged identical equal noninferior non-inferior".split())
_BETTER = frozenset("improved improvement improvements improves improve improving better superior ameliorated "
                    "beneficial benefit effective efficacious pro-cognitive antidepressant analgesic".split())
_WORSE = frozenset("worsened worsening worse deterioration deteriorated inferior aggravated exacerbated".split())
# Contractions arrive split by `words()` ("didn't" → "didn", "t").
_NEGATORS = frozenset("""no not without neither nor never none failed fail unable cannot didn doesn don isn wasn
weren aren couldn wouldn hasn haven""".split())

_P_VALUE = re.compile(r"\bp\s*(<=|>=|≤|≥|<|>|=)\s*(0?\.\d+|[01](?:\.\d+)?(?:e-?\d+)?)", re.I)
_CI = re.compile(r"\bci\b[^0-9\-]{0,12}(-?\d+(?:\.\d+)?)\s*(?:-|to|,)\s*(-?\d+(?:\.\d+)?)", re.I)
_RATIO = re.compile(r"\b(?:a?OR|RR|HR|IRR|[Rr]isk ratio|[Oo]dds ratio|[Hh]azard ratio)\s*[=:,]?\s*(\d+(?:\.\d+)?)")
_CLAUSE_BREAK = re.compile(r"[,;:()\[\]]| but | whereas | while | although ")
_DASHES = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2014": "-", "\u2264": "≤", "\u2265": "≥"})


def _arm_pattern(terms) -> re.Pattern | None:
    terms = sorted({t.lower() for t in terms if t and t.strip()}, key=len, reverse=True)
    if not terms:
        return None
    return re.compile(r"\b(?:" + "|".join(re.escape(t) for t in terms) + r")\w*", re.I)


class ArmMasker:
    """Replaces mentions of each arm with one placeholder word; built once per claim, reused."""

    def __init__(self, intervention_terms, comparator_terms, swapped: bool = False):
        self.intv = _arm_pattern(list(intervention_terms) + list(GENERIC_INTERVENTION))
        self.cmpr = _arm_pattern(list(comparator_terms) + list(GENERIC_COMPARATOR))
        # Training only: the same sentence with the arms exchanged (see train.mirrored).
        self.names = (" cmpr ", " intv ") if swapped else (" intv ", " cmpr ")

    def __call__(self, text: str) -> str:
        if self.intv is not None:
            text = self.intv.sub(self.names[0], text)
        if self.cmpr is not None:
            text = self.cmpr.sub(self.names[1], text)
        return text


def _p_tokens(text: str) -> list[str]:
    out = []
    for op, value in _P_VALUE.findall(text):
        try:
            v = float(value)
        except ValueError:
            continue
        if op in ("<", "<=", "≤"):
            out.append("p_sig" if v <= 0.05 else "p_vague")
        elif op in (">", ">=", "≥"):
            out.append("p_ns" if v >= 0.05 else "p_vague")
        else:
            out.append("p_sig" if v < 0.05 else "p_ns")
    for lo, hi in _CI.findall(text):
        lo_f, hi_f = float(lo), float(hi)
        if lo_f > hi_f:
            continue
        if lo_f < 1 < hi_f and lo_f >= 0:
            out.append("ci_spans_one")
        elif lo_f < 0 < hi_f:
            out.append("ci_spans_zero")
        else:
            out.append("ci_excludes_null")
    for value in _RATIO.findall(text):
        v = float(value)
        if v > 1:
            out.append("ratio_above_one")
        elif v < 1:
            out.append("ratio_below_one")
    return out


def _polar(word: str, polarity: int) -> str:
    """Map better/worse onto the measure: for a bad outcome (polarity -1) better means lower."""
    if word in _BETTER:
        return "down" if polarity < 0 else "up" if polarity > 0 else "better"
    if word in _WORSE:
        return "up" if polarity < 0 else "down" if polarity > 0 else "worse"
    return ""


def _symbol(word: str, polarity: int) -> str:
    if word in _UP:
        return "up"
    if word in _DOWN:
        return "down"
    if word in _SAME:
        return "same"
    if word in ("intv", "cmpr", "than", "versus", "vs", "compared"):
        return word if word not in ("versus", "vs", "compared") else "vs"
    if word in ("significant", "significantly", "statistically"):
        return "sig"
    if word in ("difference", "differences", "differ", "differed", "different", "change", "changes",
                "changed", "effect", "effects"):
        return "diff"
    return _polar(word, polarity)


def effect_tokens(sentence: str, masker: ArmMasker, polarity: int = 0,
                  focus: CaselessPattern | None = None) -> list[str]:
    """Feature tokens for one sentence: words, negation-scoped words, bigrams and a skeleton.

    With `focus` (a matcher for the outcome's words), the skeleton of the stretch naming the
    outcome is added again under its own prefix: sentences often report several outcomes.
    """
    text = sentence.translate(_DASHES)
    feats = _p_tokens(text)
    masked = masker(text.lower())
    skeleton = _walk(masked, polarity, feats)
    feats.extend(_skeleton_grams(skeleton, "sk:"))
    if focus is not None:
        hit = focus.search(masked)
        if hit:
            start = max(masked.rfind(";", 0, hit.start()), masked.rfind(". ", 0, hit.start())) + 1
            stops = [i for i in (masked.find(";", hit.end()), masked.find(". ", hit.end())) if i >= 0]
            segment = masked[start:min(stops) if stops else len(masked)]
            feats.append("focus")
            feats.extend(_skeleton_grams(_walk(segment, polarity, None), "fo:"))
    return feats


def _walk(masked: str, polarity: int, feats: list | None) -> list[str]:
    skeleton: list[str] = []
    for clause in _CLAUSE_BREAK.split(masked):
        negated = 0
        prev = "<c>"
        for w in words(clause):
            if w in _NEGATORS:
                negated = 6
                skeleton.append("neg")
                prev = w
                continue
            sym = _symbol(w, polarity)
            tok = w
            if sym in ("up", "down", "better", "worse") and w not in _UP and w not in _DOWN:
                tok = sym  # polarity-resolved word: train and run on the same canonical form
            if negated:
                tok = "not_" + tok
                negated -= 1
            if feats is not None:
                feats.append(tok)
                feats.append(prev + "_" + tok)
            prev = tok
            if sym:
                skeleton.append(("not_" if tok.startswith("not_") else "") + sym)
        skeleton.append("|")
    return skeleton


def _skeleton_grams(skeleton: list[str], prefix: str) -> list[str]:
    compact = [s for i, s in enumerate(skeleton) if not (s == "|" and (i == 0 or skeleton[i - 1] == "|"))]
    grams = [f"{prefix}{a}_{b}" for a, b in zip(compact, compact[1:])]
    grams += [f"{prefix}{a}_{b}_{c}" for a, b, c in zip(compact, compact[1:], compact[2:])]
    return grams


# The p-value cue is a pattern of its own because "≤" is not ASCII (see CaselessPattern).
_CUE = CaselessPattern(
    r"\b(?:signific\w*|differ\w*|increas\w*|decreas\w*|reduc\w*|lower|higher|greater|fewer|less|more|"
    r"improv\w*|worse\w*|similar|comparable|effective\w*|efficac\w*|superior|inferior|"
    r"associated|odds|risk|rate|declin\w*|better|favou?r\w*|ns|rose|fell|relie\w*|alleviat\w*|"
    r"attenuat\w*|induc\w*|caus\w*|incidence|occurr\w*|resolv\w*|respon\w*|remission|changed?|"
    r"prolong\w*|shorten\w*|no|not|none|observed|reported|found|showed|shown|demonstrated|effects?|"
    r"support\w*|benefit\w*|safe|safety|tolerated)\b"
)
_P_CUE = re.compile(r"\b[pP]\s*[<=>≤≥]")


def states_a_result(sentence: str) -> bool:
    """A cheap gate: background and methods sentences rarely use any of these words."""
    return _CUE.search(sentence) is not None or _P_CUE.search(sentence) is not None
