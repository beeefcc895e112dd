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
from .effect import DECREASED, INCREASED, NO_DIFFERENCE, ArmMasker, effect_tokens, states_a_result
from .linear import LinearModel
from .text import TagInput, sentences

SUPPORTS, CONTRADICTS, NO_EFFECT, MIXED, UNCLEAR = "supports", "contradicts", "no_effect", "mixed", "unclear"
DIRECTIONS = (SUPPORTS, CONTRADICTS, NO_EFFECT, MIXED, UNCLEAR)

KETAMINE_TERMS = ("ketamine", "esketamine", "arketamine", "s-ketamine", "r-ketamine", "ketalar", "spravato")

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


def map_effect(effect: str, supporting_direction: str) -> str:
    return _MAPPING.get(supporting_direction, {}).get(effect, UNCLEAR)


@dataclass(frozen=True)
class TextClaim:
    """A claim known only by its wording (the JSONL `claim` field)."""
    id: str
    statement: str
    outcome: str
    outcome_terms: tuple[str, ...]
    supporting_direction: str
    conditions: tuple = ()


_NEGATED = re.compile(
    r"\b(?:does|do|did|will|is|are|was|were|has|have)\s+not\b|\b(?:doesn't|don't|isn't|aren't|won't|cannot)\b"
    r"|\bnot\s+(?:associated|linked|cause|increase)|\bwithout\s+(?:causing|increasing|inducing)"
    r"|\bno\s+(?:increase|increased|risk|effect|difference|change)\b", re.I)
_INCREASE_VERB = re.compile(
    r"\b(?:causes?|caused|causing|induces?|induced|increases?|increased|raises?|elevates?|produces?|leads?\s+to"
    r"|results?\s+in|associated\s+with|linked\s+to|triggers?|provokes?|promotes?|enhances?|boosts?|risk\s+of"
    r"|restores?|strengthens?|increase\s+in)\b", re.I)
_DECREASE_VERB = re.compile(
    r"\b(?:reduces?|reduced|reducing|decreases?|decreased|lowers?|relieves?|relieved|alleviates?|attenuates?"
    r"|eases?|prevents?|diminish(?:es)?|lessens?|suppresses?|treats?|treating|helps?\s+(?:with|treat)"
    r"|effective\s+(?:for|in|against|at)|(?:a\s+)?treatment\s+(?:for|of)|works?\s+(?:for|on)|fights?"
    r"|combats?|resolves?|cures?)\b", re.I)
_IMPROVE_VERB = re.compile(r"\b(?:improves?|improved|improving|benefits?)\b", re.I)
_SAFE = re.compile(r"\b(?:is|are)\s+(?:generally\s+)?(?:safe|well[- ]tolerated)\b", re.I)
_LEADING = re.compile(r"^(?:the\s+|a\s+|an\s+|(?:rapid|rapidly|significant|significantly|quickly|fast|"
                      r"substantial|substantially|dramatic|dramatically)\s+)+", re.I)


def claim_from_text(text: str, claim_id: str = "claim") -> TextClaim:
    """Outcome words and supporting direction from a one-sentence claim about an intervention.

    "ketamine reduces depressive symptoms" → decrease in depressive symptoms;
    "ketamine causes nausea" → increase in nausea;
    "ketamine does not cause respiratory depression" → no difference in respiratory depression.
    """
    statement = " ".join((text or "").split())
    direction, outcome = "increase", ""
    if _SAFE.search(statement):
        direction, outcome = "no_difference", "adverse events side effects"
    else:
        verb = None
        for rx, kind in ((_DECREASE_VERB, "decrease"), (_INCREASE_VERB, "increase"), (_IMPROVE_VERB, "improve")):
            hit = rx.search(statement)
            if hit and (verb is None or hit.start() < verb[0].start()):
                verb = (hit, kind)
        if verb is not None:
            outcome = statement[verb[0].end():]
            kind = verb[1]
            if kind == "improve":
                kind = "increase" if outcomes.polarity(outcome) == outcomes.GOOD else "decrease"
            direction = kind
        else:
            outcome = statement
        if _NEGATED.search(statement):
            direction = "no_difference"
    outcome = re.split(r"[.;:!?]|,\s|\b(?:in|among|for)\s+(?:patients|people|adults|children|those)\b",
                      outcome, maxsplit=1)[0]
    outcome = _LEADING.sub("", outcome.strip()).strip()
    terms = tuple(outcomes.expand_terms(outcome)) if outcome else ()
    return TextClaim(id=claim_id, statement=statement, outcome=outcome, outcome_terms=terms,
                     supporting_direction=direction)


@dataclass
class PreparedClaim:
    """Everything about a claim the per-record loop needs, computed once per claim."""
    id: str
    supporting_direction: str
    polarity: int
    matcher: re.Pattern | None
    intervention: re.Pattern | None
    masker: ArmMasker = field(repr=False)


def prepare(claim) -> PreparedClaim:
    """Accept a registry `Claim`, a `TextClaim`, or anything with the same attributes."""
    terms = list(getattr(claim, "outcome_terms", ()) or ())
    outcome = getattr(claim, "outcome", "") or ""
    intervention_terms = tuple(getattr(claim, "intervention_terms", ()) or KETAMINE_TERMS)
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
        intervention=re.compile(r"\b(?:" + "|".join(re.escape(t) for t in intervention_terms) + r")", re.I),
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


def _title_states_finding(title: str) -> bool:
    """"Ketamine reduces suicidal ideation" states a finding; "Effect of ketamine on ..." does not."""
    return bool(title) and any(rx.search(title) for rx in (_DECREASE_VERB, _INCREASE_VERB, _IMPROVE_VERB, _NEGATED))


def direction_for(inp: TagInput, claim: PreparedClaim, model: LinearModel) -> dict:
    unclear = {"claim_id": claim.id, "direction": UNCLEAR, "evidence_sentence": None, "confidence": 0.0}
    pool, labelled = result_sentences(inp)
    if not labelled:
        pool = [s for s in pool if states_a_result(s)]
    relevant = [s for s in pool if claim.matcher is not None and claim.matcher.search(s)]
    scored = _score(relevant, claim, model, 1.0)
    if not scored and claim.matcher is not None and claim.matcher.search(inp.text):
        # The abstract is about the outcome but reports it under other names (test scores, scale
        # abbreviations): result sentences about the intervention stand in, with less weight.
        named = [s for s in pool if s not in relevant and claim.intervention.search(s)]
        scored = _score(named, claim, model, _FALLBACK_DISCOUNT)
    if not scored:
        return unclear
    votes: dict[str, float] = {}
    for p, direction, _ in scored:
        votes[direction] = votes.get(direction, 0.0) + p
    leader = max(votes, key=votes.get)
    share = votes[leader] / sum(votes.values())
    if share < 2 / 3:
        p, _, sentence = max(scored)
        return {"claim_id": claim.id, "direction": MIXED, "evidence_sentence": sentence,
                "confidence": round(share, 3)}
    p, _, sentence = max(item for item in scored if item[1] == leader)
    return {"claim_id": claim.id, "direction": leader, "evidence_sentence": sentence,
            "confidence": round(p * share, 3)}


# "Our results support the rapid-onset, pro-cognitive effects of ketamine": conclusions that
# vouch for a benefit without comparing numbers, which the span-trained model reads poorly.
_VOUCHES = re.compile(r"\b(?:support|supports|confirm|confirms|demonstrate|demonstrates|demonstrated|show|shows|"
                      r"showed|indicate|indicates|suggest|suggests)\b[^.;]{0,80}\b(?:benefit|benefits|beneficial|"
                      r"efficacy|effectiveness|effective|efficacious|pro-\w+|antidepressant effects?)\b", re.I)
_DOUBT = re.compile(r"\b(?:no|not|lack|lacks|failed|fail|neither|nor|unclear|insufficient|limited|without)\b", re.I)
_VOUCH_PROBABILITY = 0.7


def _effect(sentence: str, claim: PreparedClaim, model: LinearModel) -> tuple[str, float]:
    if claim.polarity and _VOUCHES.search(sentence) and not _DOUBT.search(sentence):
        return (INCREASED if claim.polarity > 0 else DECREASED), _VOUCH_PROBABILITY
    effect, p, _ = model.predict(effect_tokens(sentence, claim.masker, claim.polarity, claim.matcher))
    return effect, p


def _score(pool: list[str], claim: PreparedClaim, model: LinearModel, weight: float) -> list:
    """(weighted probability, direction, sentence) for each sentence the model is sure enough of."""
    out = []
    for sentence in pool[:_MAX_SCORED]:
        effect, p = _effect(sentence, claim, model)
        if p >= _MIN_PROBABILITY:
            out.append((p * weight, map_effect(effect, claim.supporting_direction), sentence))
    return out
