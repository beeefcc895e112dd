"""A claim typed as one sentence: what it says changes, which way, and between which arms.

"Ketamine reduces depressive symptoms compared with midazolam in adults" names an intervention
(ketamine), an outcome (depressive symptoms), the direction a supporting study would find
(decrease) and a comparator (midazolam). The `tag` interface's `claim` field is such a sentence,
and it may be about any intervention, so the arms come from the sentence; only a claim with no
subject ("reduces depression") falls back to ketamine.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from . import outcomes

KETAMINE_TERMS = ("ketamine", "esketamine", "arketamine", "s-ketamine", "r-ketamine", "ketalar", "spravato")

_ARM_STOP = frozenset("""with and the of plus or in to for a an at on by group groups dose doses mg daily patients
treatment treatments therapy received receiving given standard alone only before after who were was had using
participants subjects intervention control""".split())


def arm_terms(text: str) -> list[str]:
    """Words that name an arm in result sentences: "liraglutide (1.8 mg) plus glimepiride" →
    liraglutide, glimepiride."""
    return [w for w in re.findall(r"[a-z][a-z0-9\-]{3,}", (text or "").lower()) if w not in _ARM_STOP]


@dataclass(frozen=True)
class TextClaim:
    """A claim known only by its wording (the JSONL `claim` field)."""
    id: str
    statement: str
    outcome: str
    outcome_terms: tuple[str, ...]
    supporting_direction: str
    intervention_terms: tuple[str, ...] = KETAMINE_TERMS
    comparator_terms: tuple[str, ...] = ()
    conditions: tuple = ()


INCREASE_VERB = re.compile(
    r"\b(?:causes?|caused|causing|induces?|induced|increases?|increased|raises?|elevates?|produces?|leads?\s+to"
    r"|results?\s+in|associated\s+with|linked\s+to|triggers?|provokes?|promotes?|enhances?|boosts?|risk\s+of"
    r"|restores?|strengthens?|increase\s+in)\b", re.I)
DECREASE_VERB = re.compile(
    r"\b(?:reduces?|reduced|reducing|decreases?|decreased|lowers?|relieves?|relieved|alleviates?|attenuates?"
    r"|eases?|prevents?|diminish(?:es)?|lessens?|suppresses?|treats?|treating|helps?\s+(?:with|treat)"
    r"|effective\s+(?:for|in|against|at)|(?:a\s+)?treatment\s+(?:for|of)|works?\s+(?:for|on)|fights?"
    r"|combats?|resolves?|cures?)\b", re.I)
IMPROVE_VERB = re.compile(r"\b(?:improves?|improved|improving|benefits?)\b", re.I)
# Verbs that name no direction; a claim uses them negated: "does not change", "has no effect on".
_NEUTRAL_VERB = re.compile(
    r"\b(?:changes?|alters?|affects?|influences?|modif(?:y|ies)|impacts?|effects?\s+on|differences?\s+in)\b", re.I)
NEGATED = re.compile(
    r"\b(?:does|do|did|will|is|are|was|were|has|have)\s+not\b|\b(?:doesn't|don't|isn't|aren't|won't|cannot)\b"
    r"|\bnot\s+(?:associated|linked|cause|increase)|\bwithout\s+(?:causing|increasing|inducing)"
    r"|\bno\s+(?:increase|increased|risk|effect|difference|change)\b", re.I)
# Negation just before the verb ("does not cause", "has no effect on", "without raising"); the
# arms may hold a "no" of their own ("compared with no treatment").
_NEGATION_BEFORE = re.compile(r"\b(?:not|no|never|without|cannot|fails?\s+to|failed\s+to)\s+(?:\w+\s+){0,2}$"
                              r"|n't\s+(?:\w+\s+){0,2}$", re.I)
_SAFE = re.compile(r"\b(?:is|are)\s+(?:generally\s+)?(?:safe|well[- ]tolerated)\b", re.I)
_LEADING = re.compile(r"^(?:the\s+|a\s+|an\s+|(?:rapid|rapidly|significant|significantly|quickly|fast|"
                      r"substantial|substantially|dramatic|dramatically)\s+)+", re.I)
# Auxiliaries and adverbs between the subject and its verb: "ketamine can rapidly reduce".
_AUXILIARY_TAIL = re.compile(r"(?:\s+(?:does|do|did|can|could|may|might|will|would|should|is|are|was|were|has|"
                             r"have|had|not|no|never|also|significantly|rapidly|quickly|substantially|further|"
                             r"markedly|greatly|strongly|consistently|effectively|reliably|to))+\s*$", re.I)
_COMPARATOR = re.compile(r"\b(?:compared\s+(?:with|to)|in\s+comparison\s+(?:with|to)|relative\s+to|versus|vs\b\.?"
                         r"|than|more\s+than|better\s+than)\s+", re.I)
_POPULATION = re.compile(r"\b(?:in|among|for)\s+(?:patients|people|adults|children|adolescents|those|individuals|"
                         r"subjects|participants|women|men|persons|veterans)\b", re.I)
# "leads to lower pain": a directionless verb whose outcome opens with the direction.
_OPENS_DOWN = re.compile(r"^(?:lower|less|fewer|reduced|decreased|smaller|shorter)\s+", re.I)
_OPENS_UP = re.compile(r"^(?:higher|greater|more|increased|larger|longer|elevated)\s+", re.I)
_DIRECTIONLESS = re.compile(r"^(?:leads?\s+to|results?\s+in|associated\s+with|linked\s+to|produces?|causes?)$", re.I)


def _first_verb(statement: str, start: int = 0):
    best = None
    for rx, kind in ((DECREASE_VERB, "decrease"), (INCREASE_VERB, "increase"), (IMPROVE_VERB, "improve"),
                     (_NEUTRAL_VERB, "neutral")):
        hit = rx.search(statement, start)
        if hit and (best is None or hit.start() < best[0].start()):
            best = (hit, kind)
    if best and best[0].group(0).lower().endswith("ing") and not statement[:best[0].start()].strip():
        # "Reducing salt intake lowers blood pressure": an opening gerund names the intervention.
        return _first_verb(statement, best[0].end()) or best
    return best


def _before_population(text: str) -> str:
    cut = _POPULATION.search(text)
    return text[:cut.start()] if cut else text


def _intervention(subject: str) -> tuple[str, ...]:
    subject = _AUXILIARY_TAIL.sub("", subject).strip()
    low = subject.lower()
    terms = arm_terms(subject)
    if any(re.search(r"\b" + re.escape(k) + r"\b", low) for k in KETAMINE_TERMS):
        terms = list(KETAMINE_TERMS) + [t for t in terms if t not in KETAMINE_TERMS]
    return tuple(dict.fromkeys(terms)) or KETAMINE_TERMS


# A `tag` input usually repeats a few claim sentences over thousands of lines, and parsing one
# costs about a fifth of tagging a record.
@lru_cache(maxsize=4096)
def claim_from_text(text: str, claim_id: str = "claim") -> TextClaim:
    """Outcome, supporting direction and arms of a one-sentence claim about an intervention.

    "ketamine reduces depressive symptoms" → decrease in depressive symptoms;
    "ketamine causes nausea" → increase in nausea;
    "ketamine does not cause respiratory depression" → no difference in respiratory depression;
    "liraglutide lowers HbA1c compared with placebo" → decrease in HbA1c, comparator placebo.
    """
    statement = " ".join((text or "").split())
    direction, outcome, subject, comparator = "increase", "", "", ""
    if safe := _SAFE.search(statement):
        direction, outcome, subject = "no_difference", "adverse events side effects", statement[:safe.start()]
    else:
        verb = _first_verb(statement)
        if verb is None:
            outcome = statement
            if NEGATED.search(statement):
                direction = "no_difference"
        else:
            hit, kind = verb
            subject, outcome = statement[:hit.start()], statement[hit.end():]
            outcome = re.sub(r"^\s*(?:on|in|to|of)\s+", "", outcome) if kind == "neutral" else outcome
            if kind == "improve":
                kind = "increase" if outcomes.polarity(outcome) == outcomes.GOOD else "decrease"
            if _DIRECTIONLESS.match(hit.group(0).strip()):
                if _OPENS_DOWN.match(outcome.strip()):
                    kind = "decrease"
                elif _OPENS_UP.match(outcome.strip()):
                    kind = "increase"
            if _NEGATION_BEFORE.search(subject + " "):
                direction = "no_difference"
            elif kind != "neutral":  # "ketamine affects mood" names no direction: the default stays
                direction = kind
    outcome = re.split(r"[.;:!?](?:\s|$)", outcome, maxsplit=1)[0]
    split = _COMPARATOR.search(outcome)
    if split:
        outcome, comparator = outcome[:split.start()], outcome[split.end():]
    outcome = _before_population(outcome)
    outcome = _OPENS_UP.sub("", _OPENS_DOWN.sub("", _LEADING.sub("", outcome.strip()))).strip(" ,")
    arms = _intervention(subject)
    terms = outcomes.expand_terms(outcome) if outcome else []
    terms += [w for w in outcomes.key_words(outcome) if w not in terms and w not in arms]
    return TextClaim(id=claim_id, statement=statement, outcome=outcome, outcome_terms=tuple(terms),
                     supporting_direction=direction, intervention_terms=arms,
                     comparator_terms=tuple(arm_terms(_before_population(comparator))))
