"""Whether a record's results support, contradict or show no effect for one claim.

1. Candidate sentences: the RESULTS/CONCLUSIONS sections of a structured abstract, otherwise
   every sentence after the first (background) plus the title.
2. Relevant ones name the claim's outcome (and, outside labelled sections, read like a result:
   `states_a_result`); when none does but the abstract does name the outcome, result sentences
   that name the intervention stand in, with less confidence.
3. Each is classified as the intervention having increased / decreased / not changed the
   outcome relative to its comparator (`effect.py` features, a model trained on Evidence
   Inference spans).
4. The change is read against the claim: for "ketamine reduces depression" (supporting
   direction `decrease`) a decrease supports, an increase contradicts, no difference is
   `no_effect`; for "ketamine does not cause respiratory depression" (`no_difference`) no
   difference or a decrease supports and an increase contradicts. Sentences that disagree give
   `mixed`; nothing relevant gives `unclear`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import outcomes
from .claim_text import DECREASE_VERB, IMPROVE_VERB, INCREASE_VERB, KETAMINE_TERMS, NEGATED, claim_from_text
from .effect import DECREASED, INCREASED, NO_DIFFERENCE, ArmMasker, effect_tokens, states_a_result
from .linear import LinearModel
from .text import CaselessPattern, TagInput, sentences

SUPPORTS, CONTRADICTS, NO_EFFECT, MIXED, UNCLEAR = "supports", "contradicts", "no_effect", "mixed", "unclear"
DIRECTIONS = (SUPPORTS, CONTRADICTS, NO_EFFECT, MIXED, UNCLEAR)

_MAPPING = {
    "decrease": {DECREASED: SUPPORTS, INCREASED: CONTRADICTS, NO_DIFFERENCE: NO_EFFECT},
    "increase": {INCREASED: SUPPORTS, DECREASED: CONTRADICTS, NO_DIFFERENCE: NO_EFFECT},
    # "does not cause X": no change, or less X, is what the claim predicts.
    "no_difference": {NO_DIFFERENCE: SUPPORTS, DECREASED: SUPPORTS, INCREASED: CONTRADICTS},
}
_RESULT_SECTIONS = ("RESULT", "CONCLU", "FINDING", "INTERPRETATION", "OUTCOME")
_MAX_CANDIDATES = 40
_MIN_PROBABILITY = 0.5
_FALLBACK_DISCOUNT = 0.6
_MAX_SCORED = 8
_EVERY_OUTCOME = CaselessPattern(r"\b(?:any|all|each|every|none)\s+(?:of\s+the\s+)?(?:\w+\s+)?(?:outcomes?"
                                 r"|outcome\s+measures|measures|end\s*points|parameters|variables|metrics)\b",
                                 ("any", "all", "each", "every", "none"))


def map_effect(effect: str, supporting_direction: str) -> str:
    return _MAPPING.get(supporting_direction, {}).get(effect, UNCLEAR)


@dataclass
class PreparedClaim:
    """Everything about a claim the per-record loop needs, computed once per claim."""
    id: str
    supporting_direction: str
    polarity: int
    matcher: CaselessPattern | None
    intervention: CaselessPattern
    masker: ArmMasker = field(repr=False)


def prepare(claim) -> PreparedClaim:
    """Accept a registry `Claim`, a `claim_text.TextClaim`, or anything with the same attributes."""
    terms = list(getattr(claim, "outcome_terms", ()) or ())
    outcome = getattr(claim, "outcome", "") or ""
    intervention_terms = tuple(getattr(claim, "intervention_terms", ()) or KETAMINE_TERMS)
    arm_terms = [t.lower() for t in intervention_terms]
    comparator_terms = tuple(getattr(claim, "comparator_terms", ()) or ())
    polarity_text = outcome or " ".join(terms) or getattr(claim, "statement", "")
    direction = getattr(claim, "supporting_direction", None)
    if direction not in _MAPPING:
        direction = claim_from_text(getattr(claim, "statement", "") or "").supporting_direction
    return PreparedClaim(
        id=str(getattr(claim, "id", "claim")),
        supporting_direction=direction,
        polarity=outcomes.polarity(polarity_text),
        matcher=outcomes.matcher_for(outcome, terms),
        intervention=CaselessPattern(r"\b(?:" + "|".join(map(re.escape, arm_terms)) + r")", arm_terms),
        masker=ArmMasker(intervention_terms, comparator_terms),
    )


def result_sentences(inp: TagInput) -> tuple[list[str], bool]:
    """(sentences where results are stated, whether they come from labelled result sections).

    Labelled RESULTS/CONCLUSIONS sections are taken whole; otherwise every sentence but the
    opening one, plus the title, which often states the finding.
    """
    if inp.sections:
        chosen = [text for label, text in inp.sections if any(k in label for k in _RESULT_SECTIONS)]
        if chosen:
            return [s for text in chosen for s in sentences(text)][:_MAX_CANDIDATES], True
    found = sentences(inp.abstract)
    body = found[1:] if len(found) > 2 else found
    return ([inp.title] if _title_states_finding(inp.title) else []) + body[-_MAX_CANDIDATES:], False


_FINDING_VERB = CaselessPattern("|".join(f"(?:{rx.pattern})" for rx in (DECREASE_VERB, INCREASE_VERB, IMPROVE_VERB,
                                                                       NEGATED)))


def _title_states_finding(title: str) -> bool:
    """"Ketamine reduces suicidal ideation" states a finding; "Effect of ketamine on ..." does not."""
    return bool(title) and _FINDING_VERB.search(title) is not None


def direction_for(inp: TagInput, claim: PreparedClaim, model: LinearModel) -> dict:
    unclear = {"claim_id": claim.id, "direction": UNCLEAR, "evidence_sentence": None, "confidence": 0.0}
    # Most records linked to a claim by a broad search never name its outcome: one pass over
    # the whole text settles those before the abstract is split into sentences.
    text = inp.text
    # Section texts are normally part of the abstract; `whole` holds every candidate sentence.
    extra = [section for _, section in inp.sections if section not in inp.abstract]
    whole = "\n".join([text, *extra]) if extra else text
    names_outcome = claim.matcher is not None and claim.matcher.search(whole) is not None
    if not names_outcome and _EVERY_OUTCOME.search(whole) is None:
        return unclear
    pool, labelled = result_sentences(inp)

    def is_result(sentence: str) -> bool:
        return labelled or states_a_result(sentence)

    # The outcome test first: it is the cheaper one and it rules out more sentences.
    relevant = [s for s in pool if names_outcome and claim.matcher.search(s) and is_result(s)]
    reported: dict[str, float] = {}
    scored = _score(relevant, claim, model, 1.0, reported)
    if not scored:
        rest = [s for s in pool if s not in relevant]
        # "No differences were found in any of the outcome measures" covers this outcome too.
        stand_ins = [s for s in rest if _EVERY_OUTCOME.search(s) and is_result(s)]
        if names_outcome and (whole is text or claim.matcher.search(text)):
            # The abstract is about the outcome but reports it under other names (test scores,
            # scale abbreviations): result sentences about the intervention stand in.
            stand_ins += [s for s in rest if s not in stand_ins and claim.intervention.search(s) and is_result(s)]
        scored = _score(stand_ins, claim, model, _FALLBACK_DISCOUNT, reported)
    if not scored:
        return unclear
    votes: dict[str, float] = {}
    for p, direction, _ in scored:
        votes[direction] = votes.get(direction, 0.0) + p
    leader = max(votes, key=votes.get)
    share = votes[leader] / sum(votes.values())
    if share < 2 / 3:
        _, _, sentence = max(scored)
        return {"claim_id": claim.id, "direction": MIXED, "evidence_sentence": sentence,
                "confidence": round(share, 3)}
    _, _, sentence = max(item for item in scored if item[1] == leader)
    return {"claim_id": claim.id, "direction": leader, "evidence_sentence": sentence,
            "confidence": round(reported[sentence] * share, 3)}


# "Our results support the rapid-onset, pro-cognitive effects of ketamine": conclusions that
# vouch for a benefit without comparing numbers, which the span-trained model reads poorly.
_VOUCHES = CaselessPattern(r"\b(?:support|supports|confirm|confirms|demonstrate|demonstrates|demonstrated|show|shows|"
                           r"showed|indicate|indicates|suggest|suggests)\b[^.;]{0,80}\b(?:benefit|benefits|beneficial|"
                           r"efficacy|effectiveness|effective|efficacious|pro-\w+|antidepressant effects?)\b")
_DOUBT = CaselessPattern(r"\b(?:no|not|lack|lacks|failed|fail|neither|nor|unclear|insufficient|limited|without)\b")
_VOUCH_PROBABILITY = 0.7


def _effect(sentence: str, claim: PreparedClaim, model: LinearModel) -> tuple[str, float, dict | None]:
    if claim.polarity and _VOUCHES.search(sentence) and not _DOUBT.search(sentence):
        return (INCREASED if claim.polarity > 0 else DECREASED), _VOUCH_PROBABILITY, None
    return model.predict(effect_tokens(sentence, claim.masker, claim.polarity, claim.matcher))


def reported_probability(probs: dict[str, float] | None, direction: str, supporting: str) -> float:
    """The probability that a sentence reads as `direction`: every effect that maps to it counts
    (no change and a decrease both support "does not cause X")."""
    if probs is None:
        return _VOUCH_PROBABILITY
    return sum(p for effect, p in probs.items() if map_effect(effect, supporting) == direction)


def _score(pool: list[str], claim: PreparedClaim, model: LinearModel, weight: float,
           reported: dict[str, float]) -> list:
    """(weighted probability, direction, sentence) for each sentence the model is sure enough of;
    `reported` gets each such sentence's `reported_probability`, weighted the same."""
    out = []
    for sentence in pool[:_MAX_SCORED]:
        effect, p, probs = _effect(sentence, claim, model)
        if p >= _MIN_PROBABILITY:
            direction = map_effect(effect, claim.supporting_direction)
            out.append((p * weight, direction, sentence))
            reported[sentence] = weight * reported_probability(probs, direction, claim.supporting_direction)
    return out
